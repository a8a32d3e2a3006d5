"""The two-layer sigmoid network on MNIST (notebook 07): the model, its training, and the deep
stacks of notebook 09. Import from here: ``from course_lib.network import SigmoidNet, train``.

* :mod:`~course_lib.network.sigmoid_net`: ``SigmoidNet`` (784-H-10, sigmoid hidden layer,
  softmax cross-entropy), its Glorot initialisation and its forward pass as a graph;
* :mod:`~course_lib.network.training`: ``sgd_step``, ``train``, ``evaluate`` and the training
  history, reporting progress to an observer;
* :mod:`~course_lib.network.deep_stack`: ``stack_forward``, the forward pass of a stack of any
  depth, and ``layer_gradient_norms``, the size of the gradient in every layer of a deep stack;
* :mod:`~course_lib.network.capstone`: notebook 11's network (linear, layer norm, tanh, linear,
  softmax cross-entropy), its forward pass with every intermediate named, and its training;
* :mod:`~course_lib.network.validation`: the checks of images, labels, sizes and learning rates;
* :mod:`~course_lib.network.scalar_mlp`: micrograd's neuron, layer and MLP made of scalar nodes,
  on any scalar engine, with the mean squared error and one training step (notebook 10; import
  it as a module, ``from course_lib.network import scalar_mlp``).
"""

from course_lib.network.deep_stack import (
    ACTIVATIONS,
    MAX_DEPTH,
    layer_gradient_norms,
    stack_forward,
)
from course_lib.network.sigmoid_net import ForwardPass, SigmoidNet, glorot_uniform, weight_dtype
from course_lib.network.training import (
    MAX_EPOCHS,
    History,
    TrainingObserver,
    evaluate,
    sgd_step,
    train,
    training_epochs,
)
from course_lib.network.validation import check_learning_rate, pixels_in_unit_range

__all__ = [
    "ACTIVATIONS",
    "MAX_DEPTH",
    "MAX_EPOCHS",
    "ForwardPass",
    "History",
    "SigmoidNet",
    "TrainingObserver",
    "check_learning_rate",
    "evaluate",
    "glorot_uniform",
    "layer_gradient_norms",
    "pixels_in_unit_range",
    "sgd_step",
    "stack_forward",
    "train",
    "training_epochs",
    "weight_dtype",
]
