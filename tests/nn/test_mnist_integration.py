"""On the real MNIST: the files are the official ones, and a correct network learns them."""
import numpy as np
import pytest

from nn import MLP, FitOptions, fit
from nn.optim import Adam
from nn.pixels import as_inputs

pytestmark = pytest.mark.mnist


def test_real_mnist_loads_with_known_statistics(mnist):
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    x = as_inputs(mnist.x_train)  # the network's view of the stored uint8 pixels
    assert x.mean() == pytest.approx(0.1307, abs=1e-4)
    assert x.std() == pytest.approx(0.3081, abs=1e-4)
    np.testing.assert_array_equal(np.bincount(mnist.y_train),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])


def test_one_epoch_of_adam_reaches_94_percent_and_predicts_every_class(mnist):
    model = MLP([784, 128, 10], activation="relu", seed=0)
    result = fit(model, Adam(1e-3), mnist, FitOptions(epochs=1, batch_size=64, seed=0))
    assert result.status == "finished"
    logs = result.history[0]
    assert logs["test_acc"] >= 0.94
    # the course report's bug was one class for every image: ours predicts all ten, in sensible shares
    counts = np.bincount(model.predict(mnist.x_test), minlength=10)
    assert counts.min() > 700 and logs["majority_fraction"] < 0.15


def test_summed_gradient_at_lr_0_1_collapses_to_one_class_as_the_report_did(mnist):
    """The report's bug, reproduced: the gradient summed over batches of 64 makes lr 0.1 an effective 6.4."""
    from experiments.analysis.diagnosis import diagnose
    from experiments.config import RunConfig
    from nn.optim import SGD

    config = RunConfig(hidden=(128,), optimizer="sgd", lr=0.1, batch_size=64, epochs=1, reduction="sum")
    model = MLP(config.sizes(), activation="relu", seed=0)
    result = fit(model, SGD(0.1), mnist, FitOptions(epochs=1, batch_size=64, seed=0, reduction="sum"))
    assert result.status == "finished"  # not diverged: the loss stays finite, the network is just dead
    logs = result.history[0]
    assert logs["majority_fraction"] > 0.9 and np.isfinite(logs["train_loss"])
    findings = diagnose(result.history, result.status, config=config)
    collapsed = [f for f in findings if f.kind == "collapsed"]
    assert collapsed and collapsed[0].effective_lr == pytest.approx(6.4)
    from experiments.analysis.diagnosis_text import describe
    assert "6.4" in describe(collapsed[0]).advice
