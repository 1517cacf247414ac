"""MkDocs hook: bring benchmarks/results/ into the site and keep repository links working.

* Every file under ``benchmarks/results/`` (the Markdown reports and their PNG plots) becomes a
  page or asset at the same path in the site, read from where it lies (nothing is copied into
  ``docs/``). ``benchmarks/results/README.md``, when it exists, is the section's summary page
  (MkDocs serves a README.md as the folder's index); otherwise a generated page lists the reports.
  Plots that no page shows are added to the summary page.
* The "Benchmarks" entry of ``nav`` is filled with these pages, so a new report needs no edit of
  ``mkdocs.yml``.
* Links are written for GitHub, relative to the file: ``docs/index.md`` links
  ``../benchmarks/results/baselines.md``. Each relative link is resolved in the repository and
  rewritten to the page's place in the site (``docs/x.md`` -> ``x.md``, ``benchmarks/results/y.md``
  -> ``benchmarks/results/y.md``). A link to a repository file that is not part of the site (a
  script, a test) becomes its text in code style. A link to nothing stays as it is, so that
  ``mkdocs build --strict`` reports it.
"""

import logging
import os
import posixpath
import re

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.repo_files")

RESULTS = "benchmarks/results"  # repository path, served at the same path in the site
NAV_TITLE = "Benchmarks"
SUMMARY = "README.md"
_SUFFIXES = (".md", ".png", ".svg", ".jpg", ".jpeg")
# [text](target) and ![alt](target); targets without spaces, optional "title".
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~)")

_state = {}


def _repo_root(config):
    return os.path.dirname(os.path.abspath(config.config_file_path))


def _result_files(root):
    folder = os.path.join(root, RESULTS)
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder) if name.lower().endswith(_SUFFIXES)
                  and os.path.isfile(os.path.join(folder, name)))


def _title(name):
    stem = os.path.splitext(name)[0]
    return "Summary" if name == SUMMARY else stem.replace("_", " ").capitalize()


def on_config(config):
    """Fill the nav's Benchmarks section with the reports found on disk."""
    root = _repo_root(config)
    names = _result_files(root)
    reports = [n for n in names if n.endswith(".md") and n != SUMMARY]
    summary = f"{RESULTS}/{SUMMARY}" if SUMMARY in names else f"{RESULTS}/index.md"
    section = [{"Summary": summary}] + [{_title(n): f"{RESULTS}/{n}"} for n in reports]
    _state.update(root=root, names=names, reports=reports, summary=summary)
    for i, item in enumerate(config.nav or []):
        if isinstance(item, dict) and NAV_TITLE in item:
            config.nav[i] = {NAV_TITLE: section}
    return config


def on_files(files, config):
    """Add the benchmark reports and plots as files of the site, read in place."""
    root = _state["root"]
    for name in _state["names"]:
        src_uri = f"{RESULTS}/{name}"
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, abs_src_path=os.path.join(root, RESULTS, name)))
    if _state["summary"].endswith("index.md") and files.get_file_from_path(_state["summary"]) is None:
        lines = ["# Benchmarks", "", "Measured results, written by the scripts in `benchmarks/` (`make bench`).", ""]
        lines += [f"* [{_title(n)}]({n})" for n in _state["reports"]]
        files.append(File.generated(config, _state["summary"], content="\n".join(lines) + "\n"))
    return files


def _repo_path(page, config):
    """Where the page's source lies, relative to the repository root."""
    if page.file.src_uri.startswith(RESULTS + "/"):
        return page.file.src_uri
    docs = os.path.relpath(config.docs_dir, _state["root"]).replace(os.sep, "/")
    return posixpath.join(docs, page.file.src_uri)


def _site_path(repo_path, config, files):
    """The site's src_uri for a repository path, or None when the site does not hold it."""
    docs = os.path.relpath(config.docs_dir, _state["root"]).replace(os.sep, "/") + "/"
    if repo_path.startswith(docs) and files.get_file_from_path(repo_path[len(docs):]):
        return repo_path[len(docs):]
    if repo_path.startswith(RESULTS + "/") and files.get_file_from_path(repo_path):
        return repo_path
    if repo_path.rstrip("/") in (RESULTS, docs.rstrip("/")):
        index = _state["summary"] if repo_path.rstrip("/") == RESULTS else "index.md"
        return index
    return None


def _rewrite(markdown, page, config, files):
    here = posixpath.dirname(_repo_path(page, config))
    site_here = posixpath.dirname(page.file.src_uri)

    def fix(match):
        target = match["target"]
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^/", target):
            return match[0]  # external, anchor-only or absolute: left alone
        path, sep, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(here, path))
        if repo_path.startswith("../"):
            return match[0]
        site = _site_path(repo_path, config, files)
        if site is not None:
            new = posixpath.relpath(site, site_here or ".") + (sep + anchor if sep else "")
            return f"{match['bang']}[{match['text']}]({new}{match['title'] or ''})"
        if os.path.exists(os.path.join(_state["root"], repo_path)):
            # a script, test or data file of the repository: not part of the site
            text = match["text"] if match["text"].startswith("`") else f"`{match['text']}`"
            return text if not match["bang"] else f"`{repo_path}`"
        return match[0]  # a link to nothing: --strict reports it

    out, fenced = [], False
    for line in markdown.split("\n"):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
        out.append(line if fenced else _LINK.sub(fix, line))
    return "\n".join(out)


def on_page_markdown(markdown, page, config, files):
    markdown = _rewrite(markdown, page, config, files)
    if page.file.src_uri == _state["summary"]:
        shown = set()
        for name in _state["names"]:
            if name.endswith(".md"):
                with open(os.path.join(_state["root"], RESULTS, name), encoding="utf-8") as fh:
                    shown.update(posixpath.basename(m["target"]) for m in _LINK.finditer(fh.read()) if m["bang"])
        plots = [n for n in _state["names"] if not n.endswith(".md") and n not in shown]
        if plots:
            markdown += "\n\n## Plots\n\n" + "\n\n".join(f"![{n}]({n})" for n in plots) + "\n"
    return markdown
