"""The seed experiment: a Keras CNN on CIFAR-10 trained with KL-divergence loss against the
same CNN trained with categorical cross-entropy. Only this package imports TensorFlow for
training, and only in the process that trains (never the API's)."""
