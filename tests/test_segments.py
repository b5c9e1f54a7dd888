"""``--jobs N``: segment-parallel renders equal one pass frame for frame (framemd5 of lossless
renders), for motion, compensated trails (boundaries inside the trail's reach), a masked trail, an
alpha composite over a looped video, on mp4 and mkv inputs; what cannot be cut renders in one pass;
a failing segment is retried once then named; ``ffvfx batch`` and Ray in local mode."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from ffvfx.compiler.graph import Graph, Input, source
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import render
from ffvfx.ffmpeg.render import Job, thread_share
from ffvfx.ffmpeg.sources import Source
from ffvfx.scale import batch, segments
from ffvfx.stages import demo

SPEC = demo.DemoSpec(width=192, height=108, fps=30, seconds=3.0, pan=(1.5, 0.5), seed=3)
LOSSLESS = ("--encoder", "libx264", "--qp", "0", "--preset", "ultrafast")


@pytest.fixture(scope="module")
def clips(tmp_path_factory, ffmpeg, media):
    """The panning demo (90 frames, its alpha) as H.264 mp4 with audio and as mkv (1 ms ticks),
    and a 25 fps background video of 31 frames (its loop is 37.2 output frames: not whole)."""
    d = tmp_path_factory.mktemp("segclips")
    demo.write_demo(d / "pan.mkv", SPEC, ffmpeg)
    media.run("-i", d / "pan.mkv", "-f", "lavfi", "-i", "sine=f=330:d=3", "-map", "0:v", "-map", "1:a",
              "-c:v", "libx264", "-g", "12", "-bf", "3", "-crf", "12", "-c:a", "aac", "-shortest",
              d / "pan.mp4")
    media.run("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=1.24", "-c:v", "libx264", d / "bg25.mp4")
    media.run("-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=0.9", "-c:v", "libx264", d / "bg30.mp4")
    return d


def framemd5(media, path: Path) -> list[tuple[str, str]]:
    """(pts, md5) of every decoded video frame."""
    res = media.run("-i", path, "-map", "0:v:0", "-f", "framemd5", "-")
    rows = [ln.split(",") for ln in res.stdout.decode().splitlines() if ln and not ln.startswith("#")]
    return [(r[2].strip(), r[5].strip()) for r in rows]


def render_both(ffvfx_cmd, tmp_path, name, *args, jobs=3, out="out.mkv"):
    """The same render (``OUT`` in ``args`` stands for the output) with --jobs 1 and --jobs N;
    returns both outputs and N's stderr."""
    outs, err = [], ""
    for j in (1, jobs):
        o = tmp_path / f"{name}-j{j}-{out}"
        given = [o if a == "OUT" else a for a in args]
        res = ffvfx_cmd(*given, *LOSSLESS, "--jobs", j, "-y",
                        env={"FFVFX_CACHE": str(tmp_path / "cache")}, timeout=300)
        assert res.returncode == 0, res.stderr
        outs.append(o)
        err = res.stderr
    return outs, err


def assert_same(media, a: Path, b: Path, frames: int) -> None:
    fa, fb = framemd5(media, a), framemd5(media, b)
    assert len(fa) == len(fb) == frames
    assert [h for _, h in fa] == [h for _, h in fb], "pixels differ"
    assert [t for t, _ in fa] == [t for t, _ in fb], "timestamps differ"


# -- cutting -------------------------------------------------------------------------------------
def test_split_covers_every_frame_once_with_its_preroll():
    for total, jobs, reach in [(90, 3, 30), (90, 4, 40), (10, 3, 0), (7, 12, 5), (1, 3, 9)]:
        segs = segments.split(total, jobs, reach)
        assert len(segs) == min(jobs, total)
        covered = []
        for s in segs:
            last = total if s.frames is None else s.first + s.frames
            covered += range(s.first, last)
            assert s.preroll == min(s.first, reach)
        assert covered == list(range(total))
        assert segs[-1].frames is None  # the last runs to the end: an estimated count still works


def test_cuts_land_just_before_each_frame_by_its_own_time():
    """``cut_args`` finds frames by the packets' times: Matroska's 1 ms ticks at 30 fps, a file
    that starts at 0.5 s, and a variable-rate file all cut on the asked frames."""
    from ffvfx.ffmpeg.probe import VideoInfo
    from ffvfx.ffmpeg.render import cut_args

    def info(times, start=0.0, fps=Fraction(30)):
        return VideoInfo("x.mkv", 64, 48, fps, len(times), None, "yuv420p", 0, None, False,
                         times=tuple(times), start_time=start)

    def kept(args, times, start=0.0):
        ss = float(args[args.index("-ss") + 1]) if "-ss" in args else 0.0
        t = float(args[args.index("-t") + 1]) if "-t" in args else math.inf
        return [k for k, x in enumerate(times) if ss <= x - start < ss + t]

    mkv = [round(k / 30, 3) for k in range(90)]             # 0, 0.033, 0.067 ...
    assert kept(cut_args(info(mkv), 6, 60), mkv) == list(range(6, 60))
    assert kept(cut_args(info(mkv), 0, 30), mkv) == list(range(0, 30))
    assert kept(cut_args(info(mkv), 61, None), mkv) == list(range(61, 90))
    late = [0.5 + k / 29.75 for k in range(40)]
    assert kept(cut_args(info(late, 0.5, Fraction(119, 4)), 7, 20), late, 0.5) == list(range(7, 20))
    vfr = [0, 0.03, 0.05, 0.11, 0.12, 0.2, 0.26, 0.27, 0.4]
    assert kept(cut_args(info(vfr), 3, 7), vfr) == [3, 4, 5, 6]
    for args in (cut_args(info(mkv), 1, 2), cut_args(info(vfr), 1, 2)):
        assert all("e" not in a for a in args)                # ffmpeg rejects 1e-05


def test_reach_counts_the_main_input_and_aligned_files_only():
    main, still = Input(), Input("plate.png")
    looped = still.video.filter("loop", loop=-1, size=1)
    from ffvfx.compiler.graph import filter as join
    out = join([looped, main.video.filter("tpad", start=5)], "overlay")
    assert Graph(out, [main]).reach() == 5
    matte = Input("alpha.mkv", aligned=True)
    out = join([main.video, matte.video.filter("tpad", start=12)], "alphamerge")
    assert Graph(out, [main]).reach() == 12
    frozen = main.video.filter("trim", start_frame=3, end_frame=4).filter("loop", loop=-1, size=1)
    assert math.isinf(Graph(frozen, [main]).reach())
    assert Graph(source("color", c="red"), []).reach() == 0


def test_frame_numbered_graphs_are_found():
    v = Input().video
    assert Graph(v.filter("crop", w=10, h=10, x="if(lt(n,40),2,3)"), []).frame_counting() == ["crop"]
    assert Graph(v.filter("perspective", x0="if(lt(in,4),1,0)"), []).frame_counting() == ["perspective"]
    assert Graph(v.filter("trim", start_frame=4), []).frame_counting() == ["trim"]
    plain = v.filter("setpts", "round(N/FRAME_RATE/TB)").filter("tpad", start=3, start_mode="clone") \
        .filter("format", "yuv420p").filter("scale", w="iw/2", h=-2, flags="lanczos+accurate_rnd")
    assert Graph(plain, []).frame_counting() == []


def test_concat_list_has_exact_durations():
    text = segments.concat_list(["segment0000.mp4", "segment0001.mp4"], [1.0, 29 / 30])
    assert text.splitlines() == ["ffconcat version 1.0", "file segment0000.mp4", "duration 1",
                                 "file segment0001.mp4", "duration 0.966667"]
    with pytest.raises(ValueError):
        segments.concat_list(["it's.mp4"], [1.0])


# -- frame-exact against one pass ------------------------------------------------------------------
@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_motion_jobs_equal_one_pass_and_keep_the_audio(clips, ffvfx_cmd, media, tmp_path, container):
    (one, three), err = render_both(ffvfx_cmd, tmp_path, "motion", "motion", clips / f"pan.{container}",
                                    "OUT", "--delay", "8", "--bloom", out="out.mp4")
    assert "3 segments" in err
    assert_same(media, one, three, 90)
    if container == "mp4":
        assert media.audio_duration(three) == pytest.approx(media.audio_duration(one), abs=0.03)
        assert media.audio_duration(three) == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("container,layers,spacing,jobs", [
    ("mkv", 4, 6, 3),    # reach 24 inside each 30-frame segment
    ("mp4", 8, 5, 4),    # reach 40 longer than a segment (22-23 frames): pre-roll spans two
])
def test_compensated_trails_jobs_equal_one_pass(clips, ffvfx_cmd, media, tmp_path, container, layers,
                                                spacing, jobs):
    (one, many), err = render_both(ffvfx_cmd, tmp_path, "trails", "trails", clips / f"pan.{container}", "OUT",
                                   "--layers", layers, "--spacing", spacing, jobs=jobs)
    assert f"{jobs} segments" in err and f"{layers * spacing} frames of pre-roll" in err
    assert_same(media, one, many, 90)


def test_masked_trails_and_a_time_range_equal_one_pass(clips, ffvfx_cmd, media, tmp_path):
    """--mask (a side file computed once, seeked per segment) and --start between two frames."""
    (one, three), _ = render_both(ffvfx_cmd, tmp_path, "mask", "trails", clips / "pan.mp4", "OUT", "--mask",
                                  "--layers", "3", "--spacing", "4", "--start", "0.51",
                                  "--duration", "2.2")
    assert_same(media, one, three, len(framemd5(media, one)))
    assert len(framemd5(media, one)) == 66  # frames 16 (0.533 s) .. 81


@pytest.mark.parametrize("bg", ["bg25.mp4", "bg30.mp4"])  # loop of 37.2 and of 27 output frames
@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_composite_over_a_looped_video_jobs_equal_one_pass(clips, ffvfx_cmd, media, tmp_path, bg,
                                                           container):
    (one, three), err = render_both(ffvfx_cmd, tmp_path, "comp", "composite", clips / f"pan.{container}",
                                    clips / "pan.alpha.mkv", "OUT", "--bg", clips / bg, "--feather", "1")
    assert "3 segments" in err
    assert_same(media, one, three, 90)


def test_freeze_renders_in_one_pass_and_says_why(clips, ffvfx_cmd, media, tmp_path):
    (one, three), err = render_both(ffvfx_cmd, tmp_path, "freeze", "motion", clips / "pan.mkv", "OUT",
                                    "--freeze", "10")
    assert "rendering in one pass" in err and "--freeze" in err
    assert_same(media, one, three, 90)


def test_variable_frame_rate_renders_in_one_pass(ffvfx_cmd, media, scenes, tmp_path):
    timing = "settb=1/1000,setpts='(if(lt(N,16),N/30,16/30+(N-16)/12)+0.004*mod(N,3))/TB'"
    src = media.write(tmp_path / "vfr.mkv", scenes.index_coded(40, 96, 64, seed=11), vcodec="libx264",
                      pix_fmt="yuv420p", args=["-enc_time_base", "1:1000"],
                      out_args=["-vf", timing, "-fps_mode", "passthrough"])
    (one, three), err = render_both(ffvfx_cmd, tmp_path, "vfr", "motion", src, "OUT")
    assert "variable frame rate" in err and "rendering in one pass" in err
    assert_same(media, one, three, 40)


# -- failures ------------------------------------------------------------------------------------
def _job(clips, tmp_path, **kw):
    from ffvfx.effects.motion import motion
    from ffvfx.ffmpeg.render import Encoding, Job
    from ffvfx.ffmpeg.sources import resolve
    return Job(resolve(str(clips / "pan.mkv")), str(tmp_path / "out.mkv"), motion,
               Encoding("libx264", qp=0, preset="ultrafast"), quiet=True, **kw)


def test_a_segment_failing_once_is_retried(clips, tools, tmp_path, monkeypatch, media):
    from ffvfx.ffmpeg import render
    real, calls = render.execute, []

    def flaky(argv, bar, running=None):
        calls.append(argv)
        if len(calls) == 2:  # the second segment's first try
            raise FfvfxError("ffmpeg failed: simulated")
        return real(argv, bar, running)
    monkeypatch.setattr(render, "execute", flaky)
    segments.render(_job(clips, tmp_path, jobs=3), tools)
    assert len(calls) == 4
    assert len(framemd5(media, tmp_path / "out.mkv")) == 90


def test_a_segment_failing_twice_fails_the_render_named_and_leaves_nothing(clips, tools, tmp_path,
                                                                         monkeypatch):
    from ffvfx.ffmpeg import render
    real = render.execute

    def broken(argv, bar, running=None):
        if any("-ss" == a for a in argv) and float(argv[argv.index("-ss") + 1]) > 1.5:
            raise FfvfxError("ffmpeg failed: simulated")
        return real(argv, bar, running)
    monkeypatch.setattr(render, "execute", broken)
    with pytest.raises(FfvfxError, match=r"segment 3 \(frames 60-end\) failed twice"):
        segments.render(_job(clips, tmp_path, jobs=3), tools)
    assert list(tmp_path.iterdir()) == []  # no output, no segment folder


# -- batch ---------------------------------------------------------------------------------------
def test_batch_a_corrupt_file_fails_alone(clips, ffvfx_cmd, media, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes((clips / "pan.mp4").read_bytes()[:2000])
    out = tmp_path / "out"
    out.mkdir()
    res = ffvfx_cmd("batch", "-j", "2", "motion", "--delay", "4", *LOSSLESS, clips / "pan.mp4", bad,
                    clips / "pan.mkv", "-o", out, timeout=300)
    assert res.returncode == 1, res.stderr
    assert "FAIL" in res.stderr and "broken.mp4" in res.stderr
    assert "batch: 2 of 3 done, 1 failed (broken.mp4)" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pan.mkv", "pan.mp4"]
    single = tmp_path / "single.mp4"
    assert ffvfx_cmd("motion", clips / "pan.mp4", single, "--delay", "4", *LOSSLESS).returncode == 0
    assert framemd5(media, out / "pan.mp4") == framemd5(media, single)


def test_batch_refuses_what_it_cannot_run(clips, ffvfx_cmd, tmp_path):
    cases = [(["composite", clips / "pan.mp4"], "batch runs commands that read one file"),
             (["motion", "--no-such", clips / "pan.mp4"], "no such option --no-such"),
             (["motion", "--print", clips / "pan.mp4"], "--print shows one file"),
             (["motion", clips / "pan.mp4", clips / "sub" / "pan.mp4"], "would both write")]
    for args, message in cases:
        res = ffvfx_cmd("batch", *args, "-o", tmp_path)
        assert res.returncode == 1 and message in res.stderr, res.stderr
        assert res.stderr.count("\n") == 1
    res = ffvfx_cmd("batch", "motion", clips / "pan.mp4")
    assert res.returncode == 1 and "-o DIR" in res.stderr


# -- Ray in local mode ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_segments_equal_one_pass(clips, tools, tmp_path, media, ray_local):
    from ffvfx.scale import render as run
    run(_job(clips, tmp_path), tools)
    (tmp_path / "out.mkv").rename(tmp_path / "one.mkv")
    run(_job(clips, tmp_path, jobs=3, ray="local"), tools)
    assert framemd5(media, tmp_path / "out.mkv") == framemd5(media, tmp_path / "one.mkv")
    assert len(framemd5(media, tmp_path / "out.mkv")) == 90


def test_ray_batch_of_three_with_a_corrupt_one(clips, tmp_path, media, ray_local):
    from ffvfx.cli import main
    from ffvfx.scale import batch
    bad = tmp_path / "broken.mkv"
    bad.write_bytes(b"\x1aE\xdf\xa3 not really matroska" * 50)
    out = tmp_path / "out"
    out.mkdir()
    runs = batch.plan("trails", main.commands["trails"],
                      ["--layers", "3", "--no-compensate", *LOSSLESS, str(clips / "pan.mp4"), str(bad),
                       str(clips / "pan.mkv")], out)
    assert batch.execute(runs, out, 2, quiet=True, ray="local") == 1
    assert [r.rc == 0 for r in runs] == [True, False, True]
    assert "broken.mkv" in runs[1].message
    assert len(framemd5(media, out / "pan.mkv")) == 90


@pytest.mark.parametrize("address,message", [
    ("127.0.0.1:1", "nothing answers there"),
    ("ray://nohost.invalid:10001", "nothing answers there"),
    ("bogus", "give HOST:PORT"),
])
def test_an_unreachable_ray_cluster_is_one_line_in_seconds(clips, ffvfx_cmd, tmp_path, address, message):
    pytest.importorskip("ray")
    res = ffvfx_cmd("motion", clips / "pan.mkv", tmp_path / "out.mp4", "--ray", address, timeout=60)
    assert res.returncode == 1 and message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert list(tmp_path.iterdir()) == []


# -- the cores a render may use ------------------------------------------------------------------
def _render_job(jobs: int = 1, ray: str | None = None) -> Job:
    return Job(Source("in.mp4"), "out.mp4", lambda s: s, jobs=jobs, ray=ray)


@pytest.mark.parametrize("env,jobs,encoder,expected", [
    (None, 1, "libx264", ([], [])),                                          # the whole machine
    (None, 2, "libx264", (["-filter_threads", "4"], ["-threads:v", "4"])),   # segments split it
    ("2", 1, "libx264", (["-filter_threads", "2"], ["-threads:v", "2"])),    # batch's share
    ("2", 4, "libx264", (["-filter_threads", "1"], ["-threads:v", "1"])),    # never under one
    (None, 2, "h264_nvenc", (["-filter_threads", "4"], [])),                 # the GPU's encoder: as is
    ("64", 1, "libx264", ([], [])),                                          # more than the machine
])
def test_renders_side_by_side_share_the_cores(monkeypatch, env, jobs, encoder, expected):
    """8 CPUs: a render with all of them keeps ffmpeg's own thread counts; one with a share
    (``--jobs``, ``$FFVFX_CORES``) gets that many filter and software-encoder threads."""
    monkeypatch.setattr(render, "machine_cores", lambda: 8)
    if env is None:
        monkeypatch.delenv(render.CORES_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(render.CORES_VARIABLE, env)
    assert thread_share(_render_job(jobs), encoder) == expected
    # Ray segments run on the cluster's machines: only this process's own share counts
    assert thread_share(_render_job(jobs, ray="auto"), encoder) == thread_share(_render_job(1), encoder)


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_a_bad_core_count_is_one_line(monkeypatch, bad):
    monkeypatch.setenv(render.CORES_VARIABLE, bad)
    with pytest.raises(FfvfxError, match=r"\$FFVFX_CORES takes a whole number"):
        thread_share(_render_job(), "libx264")


def test_batch_gives_each_render_its_share(monkeypatch):
    monkeypatch.setattr(render, "machine_cores", lambda: 8)
    monkeypatch.delenv(render.CORES_VARIABLE, raising=False)
    assert batch.share_env(1) == {}
    assert batch.share_env(3) == {"FFVFX_CORES": "2"}
    assert batch.share_env(16) == {"FFVFX_CORES": "1"}
