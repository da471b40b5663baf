"""Cross-resource context: the other resources a policy may look at, indexed once.

A policy judges one resource, but some requirements are about two: a Service must
select some pod template, a workload's ServiceAccount must exist. The *context* of a
resource is the set of resources rendered or written beside it:

- a rendered unit (a Kustomize overlay, a Helm release) is one context;
- the plain manifest files of one tree form one context per environment (all plain
  files in no environment form one context);
- ``gate test``: every resource of the test document.

The context functions (``lookup``, ``lookup_by``, ``pods_selected``, ``selecting``)
read it through :class:`Context`, which builds its indexes on first use, so a context
no policy asks about costs nothing, and each lookup costs time proportional to what it
finds, not to the size of the context: checking 10,000 resources stays linear.

Namespaces are compared as written: a resource without ``metadata.namespace`` is in
the namespace ``""`` (as is a ``null`` namespace argument), whatever namespace
``kubectl apply -n`` would later give it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gate.loading import kube

#: The functions that read the context (``label_selector`` reads only its arguments).
CONTEXT_FUNCTIONS = frozenset({"lookup", "lookup_by", "pods_selected", "selecting"})

OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
_SCALARS = (str, int, float, bool)

#: Work done by every context, for tests that check it grows linearly: selectors
#: evaluated against a label map, and index entries written or read.
COUNTS = {"selector": 0, "index": 0}


# -- label selectors -------------------------------------------------------------------


def _is_label_selector(selector: dict[Any, Any]) -> bool:
    """A Kubernetes LabelSelector (``matchLabels``/``matchExpressions``), not a plain map."""
    return "matchLabels" in selector or "matchExpressions" in selector


def _well_formed_map(pairs: Any) -> bool:
    return isinstance(pairs, dict) and all(
        isinstance(key, str) and isinstance(value, _SCALARS) for key, value in pairs.items())


def _well_formed_expression(expression: Any) -> bool:
    if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
        return False
    operator = expression.get("operator")
    if operator not in OPERATORS:
        return False
    values = expression.get("values")
    if operator in ("In", "NotIn"):
        return (isinstance(values, list) and bool(values)
                and all(isinstance(value, _SCALARS) for value in values))
    return values is None or values == []


def well_formed(selector: Any) -> bool:
    """Whether ``selector`` is a selector at all: a LabelSelector or a map of labels."""
    if not isinstance(selector, dict):
        return False
    if not _is_label_selector(selector):
        return _well_formed_map(selector)
    if set(selector) - {"matchLabels", "matchExpressions"}:
        return False
    match_labels = selector.get("matchLabels")
    if match_labels is not None and not _well_formed_map(match_labels):
        return False
    expressions = selector.get("matchExpressions")
    if expressions is None:
        return True
    return isinstance(expressions, list) and all(map(_well_formed_expression, expressions))


def label_selector(selector: Any, labels: Any) -> bool:
    """Whether ``selector`` selects the label map ``labels`` (null labels: no labels).

    ``selector`` is a LabelSelector (``matchLabels`` pairs all equal, every
    ``matchExpressions`` entry true; ``{}`` selects everything) or a plain map (every
    pair equal, as a Service's ``spec.selector``). A null or malformed selector selects
    nothing.
    """
    COUNTS["selector"] += 1
    if labels is None:
        labels = {}
    if not isinstance(labels, dict) or not well_formed(selector):
        return False
    if not _is_label_selector(selector):
        return all(key in labels and labels[key] == value for key, value in selector.items())
    for key, value in (selector.get("matchLabels") or {}).items():
        if key not in labels or labels[key] != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression["key"], expression["operator"]
        present = key in labels
        if operator == "In" and not (present and labels[key] in expression["values"]):
            return False
        if operator == "NotIn" and present and labels[key] in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _equalities(selector: dict[str, Any]) -> list[tuple[str, Any]]:
    """Label pairs every selected map must have (empty when there are none)."""
    if not _is_label_selector(selector):
        return list(selector.items())
    pairs = list((selector.get("matchLabels") or {}).items())
    pairs += [(e["key"], e["values"][0]) for e in selector.get("matchExpressions") or ()
              if e["operator"] == "In" and len(e["values"]) == 1]
    return pairs


def _alternatives(selector: dict[str, Any]) -> list[list[tuple[str, Any]]]:
    """For each ``In`` expression, the pairs of which a selected map has one."""
    if not _is_label_selector(selector):
        return []
    return [[(e["key"], value) for value in e["values"]]
            for e in selector.get("matchExpressions") or () if e["operator"] == "In"]


# -- the context -----------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return _text(obj.get("kind")), _text(metadata.get("namespace")), _text(metadata.get("name"))


def _split_kind(kind: Any) -> tuple[str, str | None] | None:
    """``Kind`` or ``group/version/Kind`` as (Kind, apiVersion or None)."""
    if not isinstance(kind, str) or not kind:
        return None
    api_version, _, name = kind.rpartition("/")
    return name, (api_version or None)


def selector_of(obj: dict[str, Any]) -> Any:
    """The selector a resource selects pods with: ``spec.podSelector`` for a
    NetworkPolicy, else ``spec.selector``; a Service's empty selector selects nothing
    (Kubernetes leaves its endpoints to someone else)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj.get("kind") == "NetworkPolicy":
        return spec.get("podSelector")
    selector = spec.get("selector")
    if obj.get("kind") == "Service" and not selector:
        return None
    return selector


class _SelectorIndex:
    """Resources of one kind in one namespace, by one label pair their selector requires."""

    def __init__(self) -> None:
        self.keyed: dict[tuple[str, Any], list[tuple[int, dict[str, Any], Any]]] = {}
        self.unkeyed: list[tuple[int, dict[str, Any], Any]] = []

    def add(self, order: int, obj: dict[str, Any], selector: Any) -> None:
        COUNTS["index"] += 1
        pairs = _equalities(selector)
        entry = (order, obj, selector)
        if pairs:
            self.keyed.setdefault(_key(pairs[0]), []).append(entry)
        else:
            self.unkeyed.append(entry)


def _key(pair: tuple[str, Any]) -> tuple[str, Any]:
    key, value = pair
    # Hashable whatever the YAML held; well-formed selectors and labels hold scalars.
    return key, value if isinstance(value, _SCALARS) else repr(value)


class Context:
    """The resources of one context, indexed on first use.

    ``objects`` gives them at once; ``load`` gives them when a context function
    first asks (``gate diff`` reads unchanged files of the context only then).
    """

    def __init__(self, objects: Iterable[Any] = (),
                 load: Callable[[], Iterable[Any]] | None = None) -> None:
        self._objects = objects
        self._load = load
        self._indexed = False
        self._by_name: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._pods: dict[str, dict[tuple[str, Any], list[tuple[int, dict[str, Any]]]]] = {}
        self._all_pods: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._selectors: dict[tuple[str, str], _SelectorIndex] = {}
        self._fields: dict[tuple[str, tuple[Any, ...]], dict[Any, list[dict[str, Any]]]] = {}
        self._order: list[dict[str, Any]] = []

    def _index(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        objects = list(self._objects)
        if self._load is not None:
            objects.extend(self._load())
        for order, obj in enumerate(o for o in objects if isinstance(o, dict)):
            self._order.append(obj)
            kind, namespace, name = _identity(obj)
            COUNTS["index"] += 1
            self._by_name.setdefault((kind, namespace, name), []).append(obj)
            template = kube.pod_template(obj)
            if template is not None:
                metadata = template.get("metadata")
                labels = metadata.get("labels") if isinstance(metadata, dict) else None
                self._all_pods.setdefault(namespace, []).append((order, obj))
                by_pair = self._pods.setdefault(namespace, {})
                if isinstance(labels, dict):
                    for pair in labels.items():
                        COUNTS["index"] += 1
                        by_pair.setdefault(_key(pair), []).append((order, obj))
            selector = selector_of(obj)
            if selector is not None and well_formed(selector):
                self._selectors.setdefault((kind, namespace), _SelectorIndex()).add(
                    order, obj, selector)

    @property
    def objects(self) -> list[dict[str, Any]]:
        self._index()
        return self._order

    # -- the context functions -----------------------------------------------------------
    def lookup(self, kind: Any, namespace: Any, name: Any) -> dict[str, Any] | None:
        """The first resource of ``kind`` (``Kind`` or ``apiVersion/Kind``) named ``name``
        in ``namespace``, or None."""
        split = _split_kind(kind)
        if (split is None or not isinstance(name, str)
                or not isinstance(namespace, (str, type(None)))):
            return None
        self._index()
        COUNTS["index"] += 1
        found = self._by_name.get((split[0], _text(namespace), name), ())
        return next((obj for obj in found if split[1] in (None, obj.get("apiVersion"))), None)

    def lookup_by(self, kind: Any, namespace: Any, path: Any, value: Any) -> list[dict[str, Any]]:
        """The resources of ``kind`` in ``namespace`` whose field at ``path`` (a list of
        keys) equals ``value``; indexed by that field on its first use."""
        split = _split_kind(kind)
        if (split is None or not isinstance(namespace, (str, type(None)))
                or not isinstance(path, list) or not path
                or not all(isinstance(part, str) for part in path)
                or not isinstance(value, _SCALARS)):
            return []
        self._index()
        by_value = self._fields.get((split[0], tuple(path)))
        if by_value is None:
            by_value = self._fields[(split[0], tuple(path))] = {}
            for obj in self._order:
                if _text(obj.get("kind")) != split[0]:
                    continue
                found = _dig(obj, path)
                if isinstance(found, _SCALARS):
                    COUNTS["index"] += 1
                    by_value.setdefault((_identity(obj)[1], found), []).append(obj)
        COUNTS["index"] += 1
        return [obj for obj in by_value.get((_text(namespace), value), ())
                if split[1] in (None, obj.get("apiVersion"))]

    def pods_selected(self, namespace: Any, selector: Any) -> list[dict[str, Any]]:
        """The pod-bearing resources in ``namespace`` whose pod template's labels the
        selector selects, in context order."""
        if not isinstance(namespace, (str, type(None))) or not well_formed(selector):
            return []
        self._index()
        namespace = _text(namespace)
        candidates = self._candidate_pods(namespace, selector)
        found = [(order, obj) for order, obj in candidates
                 if label_selector(selector, _template_labels(obj))]
        return [obj for _, obj in sorted(found, key=lambda entry: entry[0])]

    def _candidate_pods(self, namespace: str, selector: dict[str, Any]
                        ) -> list[tuple[int, dict[str, Any]]]:
        by_pair = self._pods.get(namespace, {})
        options: list[list[tuple[int, dict[str, Any]]]] = []
        for pair in _equalities(selector):
            COUNTS["index"] += 1
            options.append(by_pair.get(_key(pair), []))
        for alternatives in _alternatives(selector):
            union: list[tuple[int, dict[str, Any]]] = []
            for pair in alternatives:
                COUNTS["index"] += 1
                union.extend(by_pair.get(_key(pair), []))
            options.append(union)
        if not options:
            return self._all_pods.get(namespace, [])  # only NotIn/Exists/DoesNotExist, or {}
        return min(options, key=len)

    def selecting(self, kind: Any, namespace: Any, labels: Any) -> list[dict[str, Any]]:
        """The resources of ``kind`` in ``namespace`` whose selector (``spec.selector``,
        a NetworkPolicy's ``spec.podSelector``) selects the label map ``labels``."""
        split = _split_kind(kind)
        if split is None or not isinstance(namespace, (str, type(None))):
            return []
        if labels is None:
            labels = {}
        if not isinstance(labels, dict):
            return []
        self._index()
        index = self._selectors.get((split[0], _text(namespace)))
        if index is None:
            return []
        candidates = list(index.unkeyed)
        for pair in labels.items():
            COUNTS["index"] += 1
            candidates.extend(index.keyed.get(_key(pair), ()))
        found = [(order, obj) for order, obj, selector in candidates
                 if split[1] in (None, obj.get("apiVersion")) and label_selector(selector, labels)]
        return [obj for _, obj in sorted(found, key=lambda entry: entry[0])]


def _template_labels(obj: dict[str, Any]) -> Any:
    template = kube.pod_template(obj)
    metadata = template.get("metadata") if template is not None else None
    return metadata.get("labels") if isinstance(metadata, dict) else None


def _dig(obj: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj
