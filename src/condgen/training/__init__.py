"""Training loops around keras.Model.fit, with their callbacks."""
