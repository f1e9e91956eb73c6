"""nn.ModuleDict, PyTorch's dict of named submodules: registered, so that parameters(), state_dict(),
train()/eval(), repr and apply see them, with PyTorch's names and PyTorch's refusals."""

from __future__ import annotations

import numpy as np
import pytest
from test_interop import need

from tinygrad_edu import Tensor, nn


def parts():
    return nn.ModuleDict({"encoder": nn.Linear(2, 4), "act": nn.ReLU(), "head": nn.Linear(4, 1)})


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = parts()

    def forward(self, x):
        for block in self.blocks.values():
            x = block(x)
        return x


def test_parameters_and_state_dict_see_the_modules_by_key():
    md = parts()
    names = ["encoder.weight", "encoder.bias", "head.weight", "head.bias"]
    assert [n for n, _ in md.named_parameters()] == names
    assert len(list(md.parameters())) == 4 and md.num_parameters() == 2 * 4 + 4 + 4 + 1
    assert list(md.state_dict()) == names
    assert [n for n, _ in Model().named_parameters()] == ["blocks." + n for n in names]


def test_load_state_dict_train_eval_and_apply_reach_inside():
    md, other = parts(), parts()
    other.load_state_dict(md.state_dict())
    np.testing.assert_array_equal(other["head"].weight.data, md["head"].weight.data)
    md.eval()
    assert not any(m.training for m in md.modules())
    md.train()
    assert all(m.training for m in md.modules())
    seen = []
    md.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "ModuleDict"]


def test_repr_lists_the_modules_by_key():
    assert repr(parts()) == (
        "ModuleDict(\n"
        "  (encoder): Linear(in_features=2, out_features=4, bias=True)\n"
        "  (act): ReLU()\n"
        "  (head): Linear(in_features=4, out_features=1, bias=True)\n"
        ")"
    )
    assert repr(nn.ModuleDict()) == "ModuleDict()"


def test_a_model_calls_the_modules_it_holds():
    model = Model()
    out = model(Tensor(np.ones((3, 2), dtype=np.float32)))
    assert out.shape == (3, 1)
    out.sum().backward()
    assert model.blocks["encoder"].weight.grad is not None


def test_the_dict_methods():
    md = parts()
    assert len(md) == 3 and list(md) == ["encoder", "act", "head"] and md.keys() == list(md)
    assert "act" in md and "tail" not in md and 3 not in md
    assert [type(m).__name__ for m in md.values()] == ["Linear", "ReLU", "Linear"]
    assert [(k, type(m).__name__) for k, m in md.items()][1] == ("act", "ReLU")
    relu = md["act"]
    md["act"] = nn.Tanh()  # replaced in its place, as a dict does
    assert list(md) == ["encoder", "act", "head"] and isinstance(md["act"], nn.Tanh)
    del md["act"]
    assert list(md) == ["encoder", "head"] and not hasattr(md, "act")
    md.update({"act": relu})
    md.update([("tail", nn.Sigmoid())])
    md.update(nn.ModuleDict({"head": nn.Identity()}))
    assert list(md) == ["encoder", "head", "act", "tail"] and isinstance(md["head"], nn.Identity)
    assert md.pop("tail").__class__ is nn.Sigmoid and "tail" not in md
    assert md.encoder is md["encoder"]  # also an attribute, as in PyTorch
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    assert len(nn.ModuleDict(None)) == 0 and list(nn.ModuleDict([("a", nn.ReLU())])) == ["a"]


def test_a_dict_attribute_of_modules_points_to_module_dict():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = {"a": nn.Linear(2, 2)}

    with pytest.raises(TypeError, match=r"'blocks' is a dict holding modules.*nn.ModuleDict\(items\)"):
        Bad()


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        ("a.b", KeyError, r"module name 'a.b' contains '.', which separates the names .* \('a_b'\)"),
        ("", KeyError, r"a module name cannot be the empty string"),
        (3, TypeError, r"ModuleDict: keys must be strings \(module names\), got int 3"),
        ("keys", KeyError, r"'keys' is already an attribute of ModuleDict .* would hide"),
        ("training", KeyError, r"'training' is already an attribute of ModuleDict"),
    ],
)
def test_keys_must_be_valid_module_names(key, error, message):
    md = parts()
    with pytest.raises(error, match=message):
        md[key] = nn.ReLU()
    with pytest.raises(error, match=message):
        nn.ModuleDict({key: nn.ReLU()})
    assert list(md) == ["encoder", "act", "head"]


def test_values_must_be_modules_and_nothing_is_added_by_a_failed_update():
    md = parts()
    with pytest.raises(TypeError, match=r"ModuleDict: item 'x' is a int; expected an nn.Module"):
        md["x"] = 3
    with pytest.raises(TypeError, match=r"item 'y' is the class ReLU, not a module; write ReLU\(\)"):
        md.update({"x": nn.Tanh(), "y": nn.ReLU})
    assert "x" not in md
    with pytest.raises(TypeError, match=r"ModuleDict.update: element #0 is tuple \('a',\), not a \(name"):
        md.update([("a",)])
    with pytest.raises(TypeError, match=r"ModuleDict.update: expected a dict of name -> module, got one"):
        md.update(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"ModuleDict: expected a dict of name -> module or \(name, module\)"):
        nn.ModuleDict(3)


def test_a_missing_key_names_the_keys():
    md = parts()
    with pytest.raises(KeyError, match=r"ModuleDict has no module 'tail'; its keys are \['encoder', 'act'"):
        md["tail"]
    with pytest.raises(KeyError, match=r"no module 'tail'"):
        del md["tail"]


def test_pytorchs_state_dict_names_and_refusals_are_the_same():
    torch = need("torch")
    tnn = torch.nn
    ours = nn.ModuleDict({"encoder": nn.Linear(2, 4), "act": nn.ReLU(), "head": nn.Linear(4, 1)})
    theirs = tnn.ModuleDict({"encoder": tnn.Linear(2, 4), "act": tnn.ReLU(), "head": tnn.Linear(4, 1)})
    for md, mod in ((ours, nn), (theirs, tnn)):
        del md["act"]
        md["mid"] = mod.Linear(4, 4)
        md.update([("encoder", mod.Linear(2, 4))])
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys())
    assert list(ours.state_dict()) == list(theirs.state_dict())

    class Theirs(tnn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = tnn.ModuleDict({"encoder": tnn.Linear(2, 4), "head": tnn.Linear(4, 1)})

    assert list(Theirs().state_dict()) == [k for k in Model().state_dict() if not k.startswith("blocks.act")]
    for key, error in (("a.b", KeyError), ("", KeyError), ("keys", KeyError), (3, TypeError)):
        with pytest.raises(error):
            theirs[key] = tnn.ReLU()
