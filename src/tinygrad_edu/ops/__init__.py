"""The built-in ops, one ``Function`` subclass each, grouped by kind.

``tinygrad_edu.autograd.OPS`` lists them all by name.
"""
