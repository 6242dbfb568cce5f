import numpy as np
import pytest

from condgen.core import metrics as m


def test_frechet_distance_of_gaussians_matches_closed_form():
    # Diagonal covariances: FD = |mu1-mu2|^2 + sum (s1 + s2 - 2 sqrt(s1 s2)).
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = m.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_with_rotated_covariance():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    s1 = q @ np.diag([1.0, 2.0, 3.0, 4.0]) @ q.T
    s2 = q @ np.diag([4.0, 3.0, 2.0, 1.0]) @ q.T  # same eigenbasis: commuting matrices
    expected = sum(a + b - 2 * np.sqrt(a * b) for a, b in zip([1, 2, 3, 4], [4, 3, 2, 1]))
    assert m.frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_with_non_commuting_covariances_matches_scipy(seed):
    """Covariances in different eigenbases, where Tr((S1 S2)^1/2) is not a sum over paired
    eigenvalues: the reference is SciPy's general matrix square root."""
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, 6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    assert not np.allclose(s1 @ s2, s2 @ s1)
    mu1, mu2 = rng.standard_normal((2, 6))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(sqrtm(s1 @ s2)).real
    assert m.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)
    # Pairing eigenvalues (right only when the matrices commute) gives another number here.
    paired = sum(np.sqrt(np.linalg.eigvalsh(s1) * np.linalg.eigvalsh(s2)))
    naive = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * paired
    assert naive != pytest.approx(expected, rel=1e-3)


def test_fid_of_a_sample_with_itself_is_zero_and_grows_with_shift():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((500, 8))
    assert m.fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert m.fid(a, a + 0.5) == pytest.approx(8 * 0.25, rel=1e-6)


def test_classifier_score_bounds():
    confident_varied = np.eye(10)[np.arange(100) % 10]
    assert m.classifier_score(confident_varied) == pytest.approx(10.0, rel=1e-6)
    collapsed = np.eye(10)[np.zeros(100, int)]
    assert m.classifier_score(collapsed) == pytest.approx(1.0, rel=1e-6)
    uniform = np.full((100, 10), 0.1)
    assert m.classifier_score(uniform) == pytest.approx(1.0, rel=1e-6)


def test_class_coverage():
    balanced = np.eye(10)[np.arange(1000) % 10]
    assert m.class_coverage(balanced) == {"classes_covered": 10, "class_histogram_tv": 0.0}
    two = np.eye(10)[np.arange(1000) % 2]
    cov = m.class_coverage(two)
    assert cov["classes_covered"] == 2 and cov["class_histogram_tv"] == pytest.approx(0.8)


def test_label_accuracy_overall_and_per_label():
    requested = np.array([0, 0, 1, 1])
    probs = np.eye(10)[[0, 1, 1, 1]]
    overall, per_label = m.label_accuracy(probs, requested)
    assert overall == 0.75 and per_label == {"0": 0.5, "1": 1.0}


@pytest.mark.parametrize(
    "successes, trials, low, high",
    [
        # Published Wilson 95% intervals (z = 1.96).
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (972, 1000, 0.9598, 0.9806),
    ],
)
def test_wilson_interval_matches_known_values(successes, trials, low, high):
    got = m.wilson_interval(successes, trials)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_rejects_impossible_counts():
    with pytest.raises(ValueError):
        m.wilson_interval(3, 0)
    with pytest.raises(ValueError):
        m.wilson_interval(11, 10)


def test_nearest_distances_match_brute_force_in_any_chunking():
    rng = np.random.default_rng(0)
    queries, refs = rng.random((37, 4, 5)), rng.random((50, 4, 5))
    brute = np.sqrt(((queries.reshape(37, 1, -1) - refs.reshape(1, 50, -1)) ** 2).sum(-1)).min(1)
    for max_elements in (1, 120, 10**6):
        got = m.nearest_distances(queries, refs, max_elements=max_elements)
        np.testing.assert_allclose(got, brute, rtol=1e-9)
    assert m.nearest_distances(refs[:3], refs) == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)


def test_memorisation_flags_copies_not_new_draws():
    rng = np.random.default_rng(0)
    heldout = rng.uniform(1.0, 3.0, 10_000)
    new = m.memorisation(rng.uniform(1.0, 3.0, 10_000), heldout)
    assert new["nn_median_ratio"] == pytest.approx(1.0, abs=0.03)
    assert new["copy_share"] < 0.03
    assert new["copy_threshold"] == pytest.approx(np.percentile(heldout, 1.0))
    copies = m.memorisation(np.zeros(100), heldout)
    assert copies["copy_share"] == 1.0 and copies["nn_median_ratio"] == 0.0
    with pytest.raises(ValueError):
        m.memorisation(np.zeros(3), np.zeros(3))
