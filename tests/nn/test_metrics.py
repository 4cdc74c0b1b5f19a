import numpy as np

from nn.metrics import accuracy, confusion_matrix, majority_fraction, per_class_accuracy


def test_metrics_on_a_hand_made_example():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    assert accuracy(y_true, y_pred) == 4 / 6
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(per_class_accuracy(y_true, y_pred, 3), [0.5, 1.0, 0.5])
    assert majority_fraction(np.array([3, 3, 3, 1])) == 0.75


def test_per_class_accuracy_is_nan_for_absent_classes():
    acc = per_class_accuracy(np.array([0, 0]), np.array([0, 1]), 3)
    assert acc[0] == 0.5 and np.isnan(acc[1]) and np.isnan(acc[2])
