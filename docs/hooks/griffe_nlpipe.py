"""Griffe extension for nlpipe's API pages (loaded by mkdocstrings, see mkdocs.yml).

* Docstrings completed at import time: the fine-tuned estimators (``nlpipe.finetune.shared_parameters``) put
  shared parameter and attribute descriptions where their source docstring says ``%TRAINING%`` (or another
  ``%NAME%`` marker). Griffe reads the source, so for those classes the docstring is taken
  from the imported class instead. Nothing else is imported (torch is not needed).
* Signatures completed at import time: an ``__init__`` that passes ``**params`` on to its parent gets
  the full signature from ``nlpipe.base.inherit_params`` (``__signature__``), which griffe cannot see in
  the source. For those classes the parameters are taken from the imported class, each with its
  default as written in the source of the ``__init__`` that declares it.
* numpydoc types are kept as written. Griffe reads ``str or path-like`` or ``{"auto"} or bool`` as
  Python expressions (shown as ``str or path - like``, or cut to ``"auto"``); each documented
  parameter, attribute and return value gets its type text from the docstring again, and its default
  from the signature.
* Function and method docstrings completed at import time: ``nlpipe.base.parameter_docs`` adds the
  standard ``X``/``y``/``sample_weight`` entries (and a family's shared ones, such as the ranking
  metrics' ``y_true``/``y_pred``/``k``), and an override without a docstring inherits its parent's
  (as ``help`` shows it). For decorated functions and methods the docstring is taken from the
  imported object.
* ``self.x = x`` in ``__init__`` makes griffe list every parameter again as an attribute; those are
  dropped (the Parameters table documents them), and so are dunder members (``__getstate__``,
  ``__sklearn_tags__``), which ``filters: public`` would show.
* Sphinx roles (``:class:`~nlpipe.SpacyTokenizer```, ``:func:`save```) become links to the API entry
  (code text when nlpipe does not document the target).
* numpydoc "See Also" sections: griffe renders them as a block of plain text, entries run together.
  Each ``name : description`` entry becomes a list item, the name a link to its API entry when
  nlpipe documents it.
"""

import importlib
import inspect
import re

import griffe

_PLACEHOLDER = re.compile(r"%[A-Z]+%")
_HEADER = re.compile(r"^-{3,}$")
_ITEM = re.compile(r"^(?P<names>\*{0,2}\w+(?:, \*{0,2}\w+)*) : (?P<type>.+)$")
_DEFAULT = re.compile(r",\s+default(?: |: |=)(?P<default>.+)$")
_SECTIONS = {"parameters", "other parameters", "attributes", "returns", "yields", "receives"}
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|obj|data|exc):`(?P<tilde>~?)(?P<target>[\w.]+)(?:\(\))?`")
_SEE_ALSO = re.compile(r"^See Also\n-{3,}\n(?P<body>.*?)(?=\n\n\S[^\n]*\n-{3,}\n|\Z)", re.S | re.M)


def _top_level_names():
    nlpipe = importlib.import_module("nlpipe")  # cheap: names load lazily
    return {name: f"{module}.{name}" for name, module in nlpipe._LAZY.items()}


class NlpipeDocstrings(griffe.Extension):
    def on_package(self, *, pkg, **kwargs):
        if pkg.name != "nlpipe":
            return
        self._pkg = pkg
        # nlpipe's top-level names are loaded lazily (PEP 562), which static analysis cannot see:
        # declare them as the aliases they are at run time, so `::: nlpipe.save` works.
        top = _top_level_names()
        for name, path in top.items():
            if name not in pkg.members:
                pkg.set_member(name, griffe.Alias(name, path, parent=pkg))
        self._documented = self._documented_paths(pkg, top)
        for obj in self._walk(pkg, set()):
            if obj.is_class:
                self._runtime_signature(obj)
        for obj in self._walk(pkg, set()):
            if obj.is_class:
                self._drop_parameter_attributes(obj)
        for obj in self._walk(pkg, set()):
            if obj.is_function and obj.parent is not None and not obj.name.startswith("_"):
                self._runtime_method_doc(obj)
        for obj in self._walk(pkg, set()):
            if obj.docstring is None:
                continue
            if obj.is_class and _PLACEHOLDER.search(obj.docstring.value):
                runtime = griffe.dynamic_import(obj.path)
                obj.docstring.value = inspect.cleandoc(runtime.__doc__)
            if ":`" in obj.docstring.value:
                obj.docstring.value = _ROLE.sub(lambda m: self._role(m, obj), obj.docstring.value)
            if "See Also" in obj.docstring.value:
                obj.docstring.value = _SEE_ALSO.sub(lambda m: self._see_also(m, obj), obj.docstring.value)
            self._raw_types(obj)

    @staticmethod
    def _runtime_method_doc(func):
        """The docstring ``help`` shows for a function or method that a decorator completes, or that inherits one.

        Any decorator may be ``parameter_docs`` under another name (``_ranking_docs``, ``_documents_docs``);
        the others (``fit_context``, ``available_if``) keep the docstring, so the runtime one is the source's.
        """
        decorated = bool(func.decorators)
        if func.docstring is not None and not decorated:
            return
        try:
            doc = inspect.getdoc(getattr(griffe.dynamic_import(func.parent.path), func.name))
        except Exception:  # noqa: BLE001 - not importable here (an extra is missing): the source's docstring
            return
        if not doc:
            return
        if func.docstring is not None:
            func.docstring.value = doc
        else:
            like = func.parent.docstring
            func.docstring = griffe.Docstring(doc, parent=func, parser=like.parser if like else None,
                                              parser_options=like.parser_options if like else None)

    @staticmethod
    def _raw_types(obj):
        """Put the docstring's own type text (and the signature's defaults) into the parsed sections."""
        raw, section = {}, None
        lines = obj.docstring.value.split("\n")
        for i, line in enumerate(lines):
            if line.strip() and i + 1 < len(lines) and _HEADER.match(lines[i + 1].strip()):
                section = line.strip().lower().replace(" ", "_")
                continue
            match = _ITEM.match(line)
            if section and match:
                kind = match["type"]
                default = _DEFAULT.search(kind)
                kind = _DEFAULT.sub("", kind).removesuffix(", optional")
                for name in match["names"].split(", "):
                    raw[section, name.lstrip("*")] = (kind, default["default"] if default else None)
        if not raw:
            return
        try:
            parameters = obj.parameters if (obj.is_function or obj.is_class) else None
        except Exception:  # noqa: BLE001 - a class whose __init__ griffe cannot see
            parameters = None
        for sec in obj.docstring.parsed:
            title = sec.kind.value
            if title.replace("_", " ") not in _SECTIONS or not isinstance(sec.value, list):
                continue
            for item in sec.value:
                name = getattr(item, "name", None)
                if (title, name) not in raw:
                    continue
                item.annotation, default = raw[title, name]
                if title in ("parameters", "other_parameters"):
                    if parameters is not None and name in parameters and parameters[name].default is not None:
                        item.value = parameters[name].default
                    elif default is not None:
                        item.value = default

    def _runtime_signature(self, klass):
        """``__init__(self, *, own..., **params)`` -> the signature the class has at run time (inherit_params)."""
        init = klass.members.get("__init__")
        if init is None or init.is_alias or not init.is_function:
            return
        if not any(p.kind is griffe.ParameterKind.var_keyword for p in init.parameters):
            return
        try:
            runtime = griffe.dynamic_import(klass.path)
            signature = inspect.signature(runtime.__init__)
        except Exception:  # noqa: BLE001 - not importable here (an extra is missing): the source's signature
            return
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return  # not completed at run time either: leave the source's signature
        params = []
        for name, param in signature.parameters.items():
            source = self._source_parameter(runtime, name)
            if source is not None:
                params.append(source)
            else:  # not found in any nlpipe source: the runtime default, as Python prints it
                default = None if param.default is param.empty else repr(param.default)
                kind = griffe.ParameterKind(param.kind.description)
                params.append(griffe.Parameter(name, kind=kind, default=default))
        init.parameters = griffe.Parameters(*params)

    def _source_parameter(self, runtime, name):
        """Parameter ``name`` as the source of the first ``__init__`` in ``runtime``'s MRO that declares it."""
        for k in runtime.__mro__:
            init = self._static_init(k) if "__init__" in k.__dict__ else None
            for p in init.parameters if init is not None else ():
                if p.name == name and p.kind is not griffe.ParameterKind.var_keyword:
                    return griffe.Parameter(p.name, annotation=p.annotation, kind=p.kind, default=p.default)
        return None

    def _static_init(self, k):
        """The ``__init__`` griffe read from the source of nlpipe class ``k``, or None."""
        if not k.__module__.startswith("nlpipe."):
            return None
        try:
            return self._pkg[f"{k.__module__}.{k.__qualname__}"[len("nlpipe."):]].members["__init__"]
        except Exception:  # noqa: BLE001 - not visible to griffe (a class made at run time, ...)
            return None

    @staticmethod
    def _drop_parameter_attributes(klass):
        """Dunder members out; ``self.alpha = alpha`` in ``__init__`` is a parameter, not an attribute."""
        try:
            params = {p.name for p in klass.parameters}
        except Exception:  # noqa: BLE001 - no visible __init__
            params = set()
        for name, member in list(klass.members.items()):
            if name.startswith("__") and name != "__init__":  # __getstate__, __sklearn_tags__: not API pages' business
                klass.del_member(name)
            elif name in params and not member.is_alias and member.is_attribute and "instance-attribute" in member.labels:
                klass.del_member(name)

    def _walk(self, obj, seen):
        if obj.path in seen:
            return
        seen.add(obj.path)
        yield obj
        for member in obj.members.values():
            if not member.is_alias:
                yield from self._walk(member, seen)

    @staticmethod
    def _documented_paths(pkg, top):
        """Canonical path -> the path the API pages document it under (public module + exported name)."""
        out = {}
        modules = [m for m in pkg.modules.values() if not m.name.startswith("_")] + [pkg]
        for module in modules:
            for name in (top if module is pkg else module.exports or ()):
                member = module.members.get(name)
                if member is None:
                    continue
                try:
                    canonical = member.final_target.path if member.is_alias else member.path
                except Exception:  # noqa: BLE001 - an alias to outside the package
                    continue
                out.setdefault(canonical, f"{module.path}.{name}")
        return out

    def _target(self, name, obj):
        """The documented path of ``name`` as seen from ``obj``, or None."""
        module = obj if obj.is_module else obj.module
        scopes = [obj.path, module.path, obj.parent.path if obj.parent else None, "nlpipe"]
        candidates = [f"{scope}.{name}" for scope in scopes if scope] + [name]
        for path in candidates:
            if not path.startswith("nlpipe."):
                continue
            try:
                target = self._pkg[path[len("nlpipe."):]]
                if target.is_alias:
                    target = target.final_target
            except Exception:  # noqa: BLE001 - not found or not resolvable: try the next scope
                continue
            canonical = target.path
            parts = canonical.split(".")
            for cut in range(len(parts), 0, -1):  # the class of a method, ...
                head = ".".join(parts[:cut])
                if head in self._documented:
                    return ".".join([self._documented[head], *parts[cut:]])
        # a name from a sibling module of the same package: the one documented object of that name
        found = {path for path in self._documented.values() if path.rsplit(".", 1)[-1] == name}
        return found.pop() if len(found) == 1 else None

    def _role(self, match, obj):
        target = match["target"]
        text = target.rsplit(".", 1)[-1] if match["tilde"] else target
        path = self._target(target, obj)
        return f"[`{text}`][{path}]" if path else f"`{text}`"

    def _see_also(self, match, obj):
        entries = []
        for line in match["body"].splitlines():
            if not line.strip():
                continue
            if line[0].isspace() and entries:
                entries[-1][1] += " " + line.strip()
                continue
            names, _, desc = line.partition(" : ")
            entries.append([[n.strip() for n in names.split(",") if n.strip()], desc.strip()])
        items = []
        for names, desc in entries:
            links = []
            for name in names:
                target = self._target(name, obj)
                links.append(f"[`{name}`][{target}]" if target else f"`{name}`")
            items.append(f"* {', '.join(links)}" + (f": {desc}" if desc else ""))
        return "See Also\n--------\n" + "\n".join(items)
