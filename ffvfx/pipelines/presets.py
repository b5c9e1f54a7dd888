"""Ready-made filter scripts: a table of motion presets rendered to ``filters/<name>.txt``.

Each file holds only the graph in script form (one chain per line, chains ending in ``;``): ffmpeg
reads it with ``-/filter_complex FILE`` (>= 7) or ``-filter_complex_script FILE`` (5.x, 6.x), and
``tr -d '\\n'`` turns it into the one line ffplay's ``-vf`` takes. ffmpeg rejects ``#`` comments in
scripts, so the usage notes live in the generated ``README.md`` beside the files.

It also writes the parameter tables of the repository's README (:func:`parameter_tables`, from
each effect's ``PARAMS``). Regenerate after changing an effect, a declaration or this table (a
test fails while the files are stale)::

    python -m ffvfx.pipelines.presets [DIR]      # default: the repository's filters/ and README
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ffvfx.compiler.graph import Graph, Input
from ffvfx.compiler.params import check, table
from ffvfx.effects import composite, motion, patch, refine, trails
from ffvfx.pipelines import studio

README = "README.md"
REGENERATE = "python -m ffvfx.pipelines.presets"


@dataclass(frozen=True)
class Preset:
    """A named set of ``ffvfx motion`` parameter values (named as :data:`ffvfx.effects.motion.PARAMS`,
    the rest at their declared defaults) and what it looks like."""

    name: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(motion.PARAMS, self.params)

    def graph(self) -> Graph:
        return Graph(motion.motion(Input().video, **motion.keywords(self.params)))

    def text(self) -> str:
        """The file's content: the graph in script form, nothing else."""
        return self.graph().script()

    def cli(self) -> str:
        """The same effect as an ``ffvfx motion`` command: the preset's values, in declaration order."""
        args = []
        for p in motion.PARAMS:
            if p.name in self.params:
                value = self.params[p.name]
                if p.kind is bool:
                    args += [p.option] if value else []
                else:
                    args.append(f"{p.option}={p.text(value)}")
        return "ffvfx motion " + " ".join(args)


def _table(*presets: Preset) -> dict[str, Preset]:
    return {p.name: p for p in presets}


PRESETS: dict[str, Preset] = _table(
    Preset("motion-gray-d1",
           "Posy's motion extraction against the previous frame: still areas go mid-gray, moving "
           "edges light and dark. Thin outlines of fast motion; shows sensor noise.",
           dict(mode="gray", delay=1)),
    Preset("motion-gray-d4",
           "Gray motion extraction, 4 frames apart: clear outlines of ordinary motion.",
           dict(mode="gray", delay=4)),
    Preset("motion-gray-d8",
           "Gray motion extraction, 8 frames apart (the ffvfx default): wide double outlines.",
           dict(mode="gray", delay=8)),
    Preset("motion-gray-d8-bloom",
           "Gray motion extraction, 8 frames apart, with a soft glow where things move.",
           dict(mode="gray", delay=8, bloom=True)),
    Preset("motion-gray-d30",
           "Gray motion extraction, 30 frames apart (1 s at 30 fps): slow drifts become visible, "
           "fast movers show twice.",
           dict(mode="gray", delay=30)),
    Preset("motion-black-d4",
           "Motion on black: |current - 4 frames ago| per channel; only what moved lights up.",
           dict(mode="black", delay=4)),
    Preset("motion-black-d8",
           "Motion on black, 8 frames apart.",
           dict(mode="black", delay=8)),
    Preset("motion-black-d8-bloom",
           "Motion on black, 8 frames apart, with a soft glow around it.",
           dict(mode="black", delay=8, bloom=True)),
    Preset("motion-glow-d8",
           "The original picture with its motion (8 frames apart) glowing on top.",
           dict(mode="glow", delay=8)),
    Preset("motion-glow-d30",
           "The original picture with a glow of what changed over the last 30 frames.",
           dict(mode="glow", delay=30)),
    Preset("motion-rgb-1-8-32",
           "Chromatic time: red, green and blue each compared with 1, 8 and 32 frames ago, so "
           "motion splits into colours by speed.",
           dict(mode="rgb", delays=(1, 8, 32))),
    Preset("motion-rgb-1-8-32-bloom",
           "Chromatic time (1, 8, 32 frames) with a soft glow.",
           dict(mode="rgb", delays=(1, 8, 32), bloom=True)),
)


def preset_text(name: str) -> str:
    """The filter script of preset ``name`` (KeyError names the known presets)."""
    try:
        return PRESETS[name].text()
    except KeyError:
        raise KeyError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}") from None


def usage(name: str, directory: str = "filters") -> dict[str, str]:
    """Shell lines that use preset ``name`` from ``directory``, keyed by where they work."""
    f = f"{directory}/{name}.txt"
    line = f"\"$(tr -d '\\n' < {f})\""
    return {
        "ffmpeg >= 7": f"ffmpeg -i in.mp4 -/filter_complex {f} -pix_fmt yuv420p out.mp4",
        "ffmpeg 5.x/6.x": f"ffmpeg -i in.mp4 -filter_complex_script {f} -pix_fmt yuv420p out.mp4",
        "ffplay": f"ffplay -vf {line} in.mp4",
        "ffplay, Linux webcam": f"ffplay -f v4l2 -i /dev/video0 -vf {line}",
        "ffplay, macOS webcam": f"ffplay -f avfoundation -framerate 30 -i 0 -vf {line}",
        "no Python": f"bin/ffvfx-webcam {name}",
    }


def readme() -> str:
    """The generated ``filters/README.md``: what each preset does and how to run it."""
    example = "motion-gray-d8"
    lines = [
        "# Ready filter scripts",
        "",
        f"Generated by `{REGENERATE}` from `ffvfx/pipelines/presets.py`; do not edit by hand (a test fails",
        "when these files differ from what the library generates).",
        "",
        "Each `<preset>.txt` holds one ffmpeg filtergraph, one chain per line. ffmpeg does not",
        "allow comments in filter scripts, so the notes are here. Replace the preset name in any",
        "line below with another from the table.",
        "",
        "```sh",
    ]
    for where, cmd in usage(example).items():
        lines += [f"# {where}", cmd]
    lines += [
        "```",
        "",
        "- `-pix_fmt yuv420p` keeps the H.264 output playable everywhere: the RGB modes (black,",
        "  glow, rgb) would otherwise be encoded as 4:4:4, which many players refuse.",
        "- ffplay's `-vf` takes the graph as one line: `tr -d '\\n'` joins the lines (every chain",
        "  but the last ends with `;`). Filter errors in ffplay are printed, but ffplay still exits 0.",
        "- `bin/ffvfx-webcam PRESET [DEVICE]` runs the webcam line for you (POSIX sh, no Python;",
        "  `bin/ffvfx-webcam --list` lists the presets).",
        "- Delays are in frames: at 30 fps, d30 compares with the picture one second earlier.",
        "",
        "| preset | what it does | same as |",
        "|---|---|---|",
    ]
    for p in PRESETS.values():
        summary = p.summary.replace("|", "\\|")  # a bare | would end the table cell
        lines.append(f"| `{p.name}` | {summary} | `{p.cli()}` |")
    return "\n".join(lines) + "\n"


PARAMETERS_BEGIN = f"<!-- parameters: generated by `{REGENERATE}` from each effect's PARAMS -->"
PARAMETERS_END = "<!-- parameters: end -->"
PARAMETER_TABLES = (
    ("`ffvfx motion`, `ffvfx.motion`", motion, "PARAMS"),
    ("`ffvfx trails`, `ffvfx.trails`", trails, "PARAMS"),
    ("`ffvfx composite`, `ffvfx.composite`", composite, "PARAMS"),
    ("`ffvfx matte` clean-up, `ffvfx.refine` (`ffvfx.Refine`)", refine, "PARAMS"),
    ("`ffvfx studio` render-time (re-render of the stored generation)", studio, "RENDER_PARAMS"),
    ("`ffvfx inpaint` render-time (re-render of the stored painting)", patch, "PARAMS"),
)
"""The README's parameter tables: a heading, the module and the name of the declarations it shows."""


def parameter_tables() -> str:
    """The README's generated part: one table per effect, from its declarations (with markers)."""
    lines = [PARAMETERS_BEGIN]
    for heading, module, name in PARAMETER_TABLES:
        where = module.__name__.replace(".", "/") + ".py"
        lines += ["", f"### {heading}", "", f"Declared in `{where}` (`{name}`).", "",
                  *table(getattr(module, name))]
    return "\n".join(lines + ["", PARAMETERS_END])


def with_parameter_tables(text: str) -> str:
    """``text`` (the README) with its generated part replaced by :func:`parameter_tables`."""
    begin, end = text.find(PARAMETERS_BEGIN), text.find(PARAMETERS_END)
    if begin < 0 or end < begin:
        raise ValueError(f"the README has no {PARAMETERS_BEGIN!r} ... {PARAMETERS_END!r} markers")
    return text[:begin] + parameter_tables() + text[end + len(PARAMETERS_END):]


def readme_path() -> Path:
    """The repository's README.md (beside ``filters/``)."""
    return default_directory().parent / README


def render_all() -> dict[str, str]:
    """Every generated file name in the filters directory and its content."""
    files = {f"{name}.txt": p.text() for name, p in PRESETS.items()}
    files[README] = readme()
    return files


def stale(directory: str | Path) -> list[str]:
    """File names in ``directory`` that are missing, differ, or are ``.txt`` files of no preset."""
    directory = Path(directory)
    expected = render_all()
    out = [name for name, text in expected.items()
           if not (directory / name).is_file()
           or (directory / name).read_text(encoding="utf-8") != text]
    out += sorted(p.name for p in directory.glob("*.txt") if p.name not in expected)
    return out


def write_presets(directory: str | Path) -> list[Path]:
    """Write every preset's script and the README into ``directory``; returns the paths written.

    Files named ``motion-*.txt`` that no preset produces any more are removed (the namespace is
    the generator's); other files are left alone.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = render_all()
    written = []
    for name, text in files.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    for old in directory.glob("motion-*.txt"):
        if old.name not in files:
            old.unlink()
    return written


def default_directory() -> Path:
    """The repository's ``filters/`` (beside the ``ffvfx`` package), else ``./filters``."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():
        return root / "filters"
    return Path.cwd() / "filters"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ffvfx.pipelines.presets",
                                     description="Write the ready filter scripts and their README.")
    parser.add_argument("directory", nargs="?", type=Path, default=None,
                        help="target directory (default: the repository's filters/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the files that are stale")
    args = parser.parse_args(argv)
    directory = args.directory or default_directory()
    # the repository's README tables only when the repository's filters/ is the target
    readme = readme_path() if args.directory is None and readme_path().is_file() else None
    if args.check:
        bad = [str(directory / name) for name in stale(directory)]
        if readme is not None:
            text = readme.read_text(encoding="utf-8")
            bad += [str(readme)] if with_parameter_tables(text) != text else []
        for name in bad:
            print(f"stale: {name}", file=sys.stderr)
        return 1 if bad else 0
    paths = write_presets(directory)
    print(f"wrote {len(paths)} files to {directory}", file=sys.stderr)
    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        if with_parameter_tables(text) != text:
            readme.write_text(with_parameter_tables(text), encoding="utf-8", newline="\n")
            print(f"wrote the parameter tables in {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
