"""The MNIST family: GAN, conditional GAN and DCGAN on 28x28 digits, and the evaluator CNN
that scores them."""
