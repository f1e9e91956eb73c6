"""What a PyTorch user writes around nn.Module, and what it does here.

Each test is a line from ordinary PyTorch code that failed with a bare Python error, or
silently did something else, before the library handled it.
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn

F = nn.functional


def net():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


# --- Sequential and ModuleList behave like PyTorch's lists of modules -------------------


def test_sequential_del_renumbers_so_append_works_again():
    seq = net()
    del seq[0]
    seq.append(nn.Tanh())  # PyTorch: fine; here it was "a module named '2' already exists"
    assert list(seq._modules) == ["0", "1", "2"]
    assert [type(m).__name__ for m in seq] == ["ReLU", "Linear", "Tanh"]
    assert [n for n, _ in seq.named_parameters()] == ["1.weight", "1.bias"]


def test_sequential_insert_and_pop_as_in_pytorch():
    seq = net()
    seq.insert(-1, nn.Sigmoid())  # before the last, as list.insert and PyTorch
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Sigmoid", "Linear"]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert type(seq.pop()).__name__ == "Linear" and len(seq) == 3
    del seq[0:2]
    assert list(seq._modules) == ["0"]
    with pytest.raises(IndexError, match="Sequential.insert: index 5 is out of range for 1 modules"):
        seq.insert(5, nn.ReLU())


@pytest.mark.parametrize("index", ["0", 0.0, True])
def test_modulelist_index_that_is_not_an_int_is_named(index):
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    with pytest.raises(TypeError, match="ModuleList indices must be integers or slices, got"):
        ml[index]


def test_modulelist_string_index_says_how_to_get_a_module_by_name():
    with pytest.raises(TypeError, match=r"getattr\(model, '0'\)"):
        nn.ModuleList([nn.ReLU()])["0"]


def test_modulelist_item_assignment_insert_del_and_iadd():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml[0] = nn.Sigmoid()
    ml.insert(1, nn.Identity())
    ml += [nn.ReLU()]
    del ml[0]
    assert [type(m).__name__ for m in ml] == ["Identity", "Tanh", "ReLU"]
    assert list(ml._modules) == ["0", "1", "2"]
    with pytest.raises(TypeError, match="ModuleList: item 0 is a int; expected an nn.Module"):
        ml[0] = 3


def test_modulelist_of_none_is_empty_and_of_a_number_is_named():
    assert len(nn.ModuleList(None)) == 0
    with pytest.raises(TypeError, match="ModuleList: expected an iterable of modules"):
        nn.ModuleList(3)
    with pytest.raises(TypeError, match="use append for one module"):
        nn.ModuleList([]).extend(nn.Linear(1, 1))


class _Blocks(nn.Module):
    """A module that is also an iterable of modules, as PyTorch allows."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(1, 1), nn.ReLU()

    def __iter__(self):
        return iter([self.a, self.b])


def test_modulelist_takes_a_module_that_is_iterable():
    ml = nn.ModuleList(_Blocks())  # torch: the module's items; here it was "use append"
    ml += _Blocks()
    assert [type(m).__name__ for m in ml] == ["Linear", "ReLU", "Linear", "ReLU"]


def test_modulelist_of_a_module_dict_says_to_take_its_values():
    d = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(TypeError, match=r"a ModuleDict iterates over its keys; pass its .values\(\)"):
        nn.ModuleList(d)
    assert type(nn.ModuleList(d.values())[0]).__name__ == "ReLU"


@pytest.mark.parametrize("kind", ["ModuleList", "Sequential"])
def test_slice_assignment_is_named_as_not_supported(kind):
    container = nn.ModuleList([nn.ReLU()]) if kind == "ModuleList" else nn.Sequential(nn.ReLU())
    # it said "indices must be integers or slices, got slice"
    with pytest.raises(TypeError, match=rf"{kind}\[a:b\] = ... is not supported"):
        container[0:1] = [nn.Tanh()]
    assert type(container[0]).__name__ == "ReLU"


def test_init_fans_given_a_parameter_says_to_pass_its_shape():
    p = nn.Linear(2, 3).weight
    # it suggested init.he_normal(p.shape), which is not what fans computes
    message = r"init.fans: .* Parameter of shape \(3, 2\); write init.fans\(p.shape\)$"
    with pytest.raises(TypeError, match=message):
        nn.init.fans(p)
    assert nn.init.fans(p.shape) == (2, 3)


def test_apply_of_something_not_callable_is_named():
    with pytest.raises(TypeError, match="Sequential.apply: fn must be a function of one module"):
        net().apply(3)


# --- nn.init takes a shape, not the tensor to fill -----------------------------------------


@pytest.mark.parametrize("name", ["zeros", "ones", "he_normal", "xavier_uniform", "normal"])
def test_init_given_a_parameter_says_to_pass_its_shape(name):
    layer = nn.Linear(2, 3)
    # nn.init.zeros(layer.bias) returned a new array of shape () ... (one 0-sized axis per value)
    with pytest.raises(TypeError, match=rf"init.{name}: expected a shape .* got a Parameter of shape \(3,\)"):
        getattr(nn.init, name)(layer.bias)
    with pytest.raises(TypeError, match=rf"p.data\[...\] = nn.init.{name}\(p.shape"):
        getattr(nn.init, name)(layer.weight)


def test_init_uniform_given_a_parameter_shows_its_arguments():
    with pytest.raises(TypeError, match=r"nn.init.uniform\(p.shape, low, high\)"):
        nn.init.uniform(nn.Linear(2, 3).weight, -1, 1)


def test_init_still_takes_a_shape_in_any_form():
    assert nn.init.zeros(3).shape == (3,)
    assert nn.init.he_normal((3, 2)).shape == (3, 2)
    assert nn.init.xavier_normal(np.array([3, 2])).shape == (3, 2)
    assert nn.init.ones(nn.Linear(2, 3).weight.shape).shape == (3, 2)


# --- dim= (PyTorch) where this library takes axis= (numpy) ------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Softmax(dim=1), r"nn.Softmax takes numpy's axis=, not PyTorch's dim=: .*\(axis=1"),
        (lambda: nn.LogSoftmax(dim=0), r"nn.LogSoftmax takes numpy's axis=.*nn.LogSoftmax\(axis=0\)"),
        (lambda: F.softmax(Tensor(np.ones((2, 2))), dim=1), r"F.softmax takes .*F.softmax\(x, axis=1"),
        (lambda: F.log_softmax(Tensor(np.ones((2, 2))), dim=1), r"F.log_softmax\(x, axis=1\)"),
    ],
)
def test_dim_keyword_says_to_write_axis(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_axis_positionally_and_by_name_still_works():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 5.0]]))
    np.testing.assert_allclose(nn.Softmax(0)(x).data, nn.Softmax(axis=0)(x).data)
    np.testing.assert_allclose(F.log_softmax(x, 0).data, F.log_softmax(x, axis=0).data)


def test_del_insert_pop_give_pytorchs_names():
    torch = pytest.importorskip("torch")
    ours, theirs = net(), torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    for seq, mod in ((ours, nn), (theirs, torch.nn)):
        del seq[0]
        seq.insert(-1, mod.Sigmoid())
        seq.append(mod.Tanh())
        seq.pop(0)
    assert list(ours._modules) == list(theirs._modules)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_a_module_without_arguments_names_itself_when_given_some():
    # before: "Module.__init__() got an unexpected keyword argument 'inplace'", naming a class
    # the user never wrote
    with pytest.raises(TypeError, match=r"^ReLU\(\) takes no arguments, got inplace=True; PyTorch's inplace"):
        nn.ReLU(inplace=True)
    with pytest.raises(TypeError, match=r"^Flatten\(\) takes no arguments, got start_dim=1; see docs/"):
        nn.Flatten(start_dim=1)
    with pytest.raises(TypeError, match=r"^Tanh\(\) takes no arguments, got 3;"):
        nn.Tanh(3)
    with pytest.raises(TypeError, match=r"^ReLU\(\.\.\.\) was given an ndarray of shape \(2,\)"):
        nn.ReLU(np.ones(2))  # (data for the module itself: said as before)
    assert isinstance(nn.ReLU(), nn.ReLU) and isinstance(nn.Module(), nn.Module)
