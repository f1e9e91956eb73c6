"""The topological order that every backward walk follows: the Tensor engine's
(``autograd.run_backward``), the Value engine's, the pictures' and check_model's."""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, Sequence, TypeVar

N = TypeVar("N", bound=Hashable)


def toposort(roots: Iterable[N], parents: Callable[[N], Sequence[N]]) -> list[N]:
    """Every node reachable from ``roots``, each after all of its parents.

    ``parents(node)`` returns a sequence (empty for a leaf) of the nodes that
    ``node`` was made from; a node reached twice (a diamond) appears once.
    Reverse the list to walk backward, outputs first: then every node comes
    before the nodes it was made from, so its gradient is complete when reached.

    Depth-first search with an explicit stack instead of recursion, so that a
    100,000-op chain does not hit Python's recursion limit. A node is finished,
    and appended, once all its parents are.
    """
    order: list[N] = []
    visited: set[N] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(parents(root)))]  # a node and its parents still to visit
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if parent not in visited:
                    visited.add(parent)
                    its_parents = parents(parent)
                    if its_parents:
                        stack.append((parent, iter(its_parents)))
                        break
                    order.append(parent)  # a leaf is finished as soon as it is seen
            else:  # every parent is finished: so is the node
                stack.pop()
                order.append(node)
    return order
