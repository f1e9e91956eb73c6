"""The order of the Value engine's backward, the graph pictures and check_model.

(The Tensor engine orders its backward by the ops' sequence numbers instead; see
``autograd._run_backward``.)
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, Sequence, TypeVar

N = TypeVar("N", bound=Hashable)


def toposort(roots: Iterable[N], parents: Callable[[N], Sequence[N]]) -> list[N]:
    """Every node reachable from ``roots``, each after all of its parents.

    ``parents(node)`` returns a sequence (empty for a leaf) of the nodes that
    ``node`` was made from; a node reached twice (a diamond) appears once.
    Reverse the list to walk backward, outputs first.

    Depth-first search with an explicit stack instead of recursion, so that a
    100,000-op chain does not hit Python's recursion limit.
    """
    order: list[N] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        # Each stack entry is a node and an iterator over its parents still to visit.
        stack = [(root, iter(parents(root)))]
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if id(parent) not in visited:
                    visited.add(id(parent))
                    grandparents = parents(parent)
                    if grandparents:
                        stack.append((parent, iter(grandparents)))
                        break
                    order.append(parent)  # a leaf is finished as soon as it is seen
            else:
                stack.pop()
                order.append(node)
    return order
