"""``ffvfx tune``: an effect playing while its parameters change from a page or keys.

Measured on real pixels: the player's test mode (``--sink FIFO``: ffmpeg, paced like ffplay,
writing raw gray frames) runs the same zmq graph as ffplay, on a brightness-coded clip (frame i is
gray ``20 + 2 i``), so every frame of ``motion --mode black`` is one number that names the delay
and the strength. Also: real ffplay under Xvfb (same process across a live change, a new one
after a shape change, none left after quitting), the page in headless Chromium (slider, mode,
copy-ready commands, screenshot), and the page's refusals (token, host, ranges, non-finite
values, filter syntax, unknown names).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ffvfx_argv
from tune_session import Tuner

from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.motion import motion
from ffvfx.effects.trails import trails
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import live

W, H, FPS, FRAMES = 64, 48, 30, 90
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ramp(media, tmp_path_factory) -> Path:
    """Frame i is gray 20 + 2 i (lossless): ``|c - p|`` is ``2 * delay`` on every frame past it."""
    frames = np.repeat((20 + 2 * np.arange(FRAMES, dtype=np.uint8))[:, None, None, None], H, 1)
    frames = np.repeat(np.repeat(frames, W, 2), 3, 3)
    return media.write(tmp_path_factory.mktemp("tune") / "ramp.mkv", frames, fps=FPS)


def printed(clip: Path, *options: str) -> str:
    """``ffvfx motion CLIP OPTIONS --print``: the graph a render would run."""
    res = subprocess.run([*ffvfx_argv(), "motion", str(clip), *options, "--print"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def reference(ffmpeg: str, clip: Path, graph: str) -> np.ndarray:
    """Mean gray of every frame of ``clip`` through ``graph`` rendered by plain ffmpeg."""
    out = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(clip), "-vf", graph,
                          "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], capture_output=True, check=True,
                         timeout=60).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, H * W).mean(axis=1)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


# -- the compiler and the live decision (no player) --------------------------------------------------
def test_instance_names_are_an_option_and_shapes_compare_values_out():
    i = Input()
    g = Graph(motion(i.video, mode="black", strength=2), [i])
    named = g.line(instances=True)
    assert "@" not in g.line() and re.search(r"lutrgb@f\d+=r=val\*2", named)
    assert [x.target.split("@")[0] for x in g.instances()] == [x.filter for x in g.instances()]
    j = Input()
    same = Graph(motion(j.video, mode="black", strength=3), [j])
    other = Graph(motion(j.video, mode="matte", strength=3), [j])
    assert g.shape() == same.shape() != other.shape()
    delay = Graph(motion(j.video, mode="black", strength=3, delay=4), [j])
    assert delay.shape() == g.shape()  # tpad's start: same shape, but no command changes it


def test_live_commands_only_for_runtime_options(tools):
    a, b, c = Input(), Input(), Input()
    old = Graph(trails(a.video, decay=0.7), [a])
    cmds = live.commands(old, Graph(trails(b.video, decay=0.5), [b]), tools.ffmpeg)
    assert {c.option for c in cmds} == {"weights", "scale"}
    assert all(c.target.startswith("mix@") for c in cmds)
    assert cmds[0].message().startswith(cmds[0].target + " weights '1 0.5 0.25")
    assert live.commands(old, Graph(trails(c.video, layers=3), [c]), tools.ffmpeg) is None
    assert live.commands(old, Graph(trails(c.video, spacing=3), [c]), tools.ffmpeg) is None  # tpad
    assert "r" in live.runtime_options(tools.ffmpeg, "lutrgb")
    assert "start" not in live.runtime_options(tools.ffmpeg, "tpad")
    assert live.runtime_options(tools.ffmpeg, "x;movie") == frozenset()
    assert live.token("a b'c") == "'a b'\\''c'" and live.token("val*2") == "val*2"


# -- the player in test mode: pixels, latency, restarts, refusals -----------------------------------
def test_live_change_restart_at_delay_and_refusals(ramp, tools, tmp_path):
    ref = {(s, d): reference(tools.ffmpeg, ramp, printed(ramp, "--mode=black", f"--strength={s}",
                                                         f"--delay={d}"))[d + 1]
           for s, d in ((2, 8), (3, 8), (3, 5))}
    tuner = Tuner(["motion", str(ramp), "--mode", "black", "--strength", "2"], tmp_path, (W, H))
    try:
        tuner.wait_value(ref[2, 8], 0, timeout=15)
        pid = tuner.state()["player"]["pid"]
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert re.search(rb"zmq@f\d+=bind_address='tcp\\://127\.0\.0\.1\\:\d+'", argv[argv.index(b"-vf") + 1])
        sent = time.monotonic()
        reply = tuner.set(strength="3")
        shown = tuner.wait_value(ref[3, 8], sent)
        assert reply["how"] == "live" and reply["state"]["player"]["pid"] == pid
        assert shown - sent < 0.5, f"live change took {shown - sent:.3f} s"
        assert "--strength=3" in reply["state"]["ffvfx"] and "val*3" in reply["state"]["graph"]

        before = tuner.state()
        bad = [{"strength": "nan"}, {"strength": "inf"}, {"strength": "1e999"}, {"strength": float("inf")},
               {"delay": "0"}, {"delay": "1001"}, {"delay": "8[x];movie=/etc/passwd"},
               {"mode": "black,movie=/etc/passwd"}, {"bloom_sigma": "-1"}, {"nope": "1"}, {"delays": "1,2"},
               {"strength": ["3"]}, ["strength"], {}]
        for body in bad:
            code, reply = tuner.request("/set", body)
            assert code == 400 and reply["error"], (body, reply)
        code, _ = tuner.request("/set", {"strength": "4"}, token="wrong")
        assert code == 403
        code, _ = tuner.request("/state", token="")
        assert code == 403
        code, _ = tuner.request("/state", headers={"Host": "evil.example:80"})
        assert code == 403
        code, _ = tuner.request("/", token=tuner.token[:-1])
        assert code == 403
        after = tuner.state()
        for key in ("graph", "ffvfx", "ffmpeg"):
            assert after[key] == before[key]
        assert after["player"]["pid"] == pid and after["player"]["restarts"] == 0

        sent = time.monotonic()
        reply = tuner.set(delay="5")
        assert reply["how"] == "restart" and reply["state"]["player"]["pid"] != pid
        tuner.wait_value(ref[3, 5], sent, timeout=8)
        assert _gone(pid)
        # the restarted player starts at the frame the old one was at; each of its frames past
        # the first 5 (and not within 5 of the loop's seam) is exactly the delay-5 picture
        first = round(reply["state"]["player"]["at"] * FPS)
        assert 0 < first < FRAMES
        time.sleep(1.0)
        new = tuner.means(1)
        exact = [m for j, m in enumerate(new[:FRAMES]) if j >= 5 and (first + j) % FRAMES >= 5]
        assert len(exact) > 10 and np.allclose(exact, ref[3, 5], atol=0.01), new[:20]
        wrong = {d: reference(tools.ffmpeg, ramp, printed(ramp, "--mode=black", "--strength=3",
                                                          f"--delay={d}"))[d + 1] for d in (4, 6)}
        assert all(abs(w - ref[3, 5]) > 2 for w in wrong.values())  # one frame off would show
        out, err = tuner.quit()
    finally:
        tuner.close()
    assert tuner.proc.returncode == 0, err
    command, graph = out.strip().splitlines()
    assert command == f"ffvfx motion {ramp} ramp-motion.mp4 --mode=black --delay=5 --strength=3"
    assert graph == printed(ramp, "--mode=black", "--delay=5", "--strength=3")
    assert _gone(reply["state"]["player"]["pid"])


# -- real ffplay -------------------------------------------------------------------------------------
def test_ffplay_same_process_for_live_new_for_shape_none_left(ramp, display_env, tmp_path):
    tuner = Tuner(["trails", str(ramp), "--no-compensate"], tmp_path, (W, H), env=display_env, sink=False)
    try:
        deadline = time.monotonic() + 15
        while not tuner.state()["player"]["position"] and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = tuner.state()["player"]["pid"]
        reply = tuner.set(decay="0.4")
        assert reply["how"] == "live" and reply["state"]["player"]["pid"] == pid
        assert any(c.startswith("mix@") for c in reply["state"]["player"]["commands"])
        time.sleep(0.5)
        assert not _gone(pid)
        reply = tuner.set(spacing="3")
        new = reply["state"]["player"]["pid"]
        assert reply["how"] == "restart" and new != pid and _gone(pid)
        time.sleep(0.5)
        os.kill(tuner.proc.pid, signal.SIGINT)  # Ctrl-C
        out, err = tuner.proc.communicate(timeout=20)
    finally:
        tuner.close()
    assert tuner.proc.returncode == 0, err
    expected = f"ffvfx trails {ramp} ramp-trails.mp4 --decay=0.4 --spacing=3 --no-compensate"
    assert out.splitlines()[0] == expected
    assert "tpad=start=18:" in out.splitlines()[1]
    assert _gone(new)


def test_ffplay_closed_ends_the_session_with_its_summary(ramp, display_env, tmp_path):
    tuner = Tuner(["motion", str(ramp), "--delay", "3"], tmp_path, (W, H), env=display_env, sink=False)
    try:
        pid = tuner.state()["player"]["pid"]
        time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)  # as q in ffplay: the player ends, so does the session
        out, err = tuner.proc.communicate(timeout=20)
    finally:
        tuner.close()
    assert tuner.proc.returncode == 0, err
    assert out.splitlines()[0] == f"ffvfx motion {ramp} ramp-motion.mp4 --delay=3"


# -- keys -------------------------------------------------------------------------------------------
def test_keys_step_the_main_options(ramp, tools):
    from ffvfx.cli.tune import _validators
    from ffvfx.ffmpeg.sources import Source
    from ffvfx.pipelines.tune import EFFECTS, Session
    t = EFFECTS["motion"]
    values = {p.name: (tuple(p.default) if isinstance(p.default, tuple) else p.default) for p in t.params}
    session = Session(t, values, _validators(t), Source(str(ramp)), spec=str(ramp), tools=tools)
    assert "delay=9" in session.step("+") and session.values["delay"] == 9
    assert session.step("]").startswith("--strength=1.25")
    assert session.step("m") == "--mode=black (none)" and session.values["mode"] == "black"
    assert session.step("b").startswith("--bloom") and session.values["bloom"] is True
    session.values["delay"] = 1000
    assert "1..1000" in session.step("+") and session.values["delay"] == 1000
    assert session.step("x") == ""


def test_composite_tunes_its_settings_not_its_files(ramp, media, tools, tmp_path):
    from ffvfx.cli.tune import _validators
    from ffvfx.ffmpeg.sources import Source
    from ffvfx.pipelines.tune import EFFECTS, Session
    alpha = media.write(tmp_path / "alpha.mkv", np.full((FRAMES, H, W, 3), 255, np.uint8), fps=FPS)
    t = EFFECTS["composite"]
    values = {p.name: p.default for p in t.params} | {"alpha": str(alpha), "bg": "red"}
    session = Session(t, values, _validators(t), Source(str(ramp)), spec=str(ramp), tools=tools)
    assert sorted(session.validators) == ["feather", "fit", "pad_color", "shift_bg"]
    session.change({"feather": "2", "shift_bg": "4,-2"})
    assert session.command() == (f"ffvfx composite {ramp} {alpha} ramp-composite.mp4 --bg=red --feather=2 "
                                 "--shift-bg=4,-2")
    for bad in ({"bg": "/etc/passwd"}, {"alpha": "x.mkv"}, {"pad_color": "black[x];movie=/etc/passwd"},
                {"shift_bg": "1e999,0"}):
        with pytest.raises(FfvfxError):
            session.change(bad)
    assert "--feather=2" in session.command() and "movie=filename=" in session.graph.line()


# -- the page in Chromium ------------------------------------------------------------------------------
def _driver(tmp_path: Path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    if not exe or not os.path.exists(driver):
        pytest.skip("Chromium and chromium-driver are not installed (bin/setup installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = exe
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900"):
        opts.add_argument(flag)
    from selenium.webdriver.chrome.service import Service
    return webdriver.Chrome(options=opts, service=Service(driver))


def test_page_slider_and_mode_change_the_command_and_the_frames(ramp, tools, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
    browser = _driver(tmp_path)
    tuner = Tuner(["motion", ramp.name, "--mode", "black", "--strength", "2"], tmp_path, (W, H),
                  cwd=ramp.parent)
    try:
        browser.get(tuner.url)
        wait = WebDriverWait(browser, 15)
        wait.until(lambda b: "--mode=black" in b.find_element(By.ID, "ffvfx").text)
        groups = [e.get_attribute("id") for e in browser.find_elements(By.TAG_NAME, "fieldset")]
        assert groups == ["group-motion", "group-bloom"]
        names = [e.get_attribute("name") for e in browser.find_elements(By.CSS_SELECTOR, "[id^=ctl-]")]
        assert names == ["mode", "delay", "delay_s", "delays", "strength", "freeze", "bloom",
                         "bloom_sigma", "bloom_strength"]
        pid = tuner.state()["player"]["pid"]
        ref = reference(tools.ffmpeg, ramp, tuner.state()["graph"].replace("val*2", "val*3"))[20]
        slider = browser.find_element(By.ID, "ctl-strength")
        sent = time.monotonic()
        slider.send_keys(*[Keys.ARROW_RIGHT] * 25)  # step 0.04: 2 -> 3
        wait.until(lambda b: "--strength=3" in b.find_element(By.ID, "ffvfx").text)
        tuner.wait_value(ref, sent)
        assert tuner.state()["player"]["pid"] == pid and tuner.state()["player"]["restarts"] == 0
        Select(browser.find_element(By.ID, "ctl-mode")).select_by_value("gray")
        wait.until(lambda b: "--mode" not in b.find_element(By.ID, "ffvfx").text)
        state = tuner.state()
        assert state["player"]["pid"] != pid and "lutyuv" in browser.find_element(By.ID, "graph").text
        gray = reference(tools.ffmpeg, ramp, state["graph"])[20]
        tuner.wait_value(gray, sent, timeout=8)
        assert browser.find_element(By.ID, "ffmpeg").text.startswith(tools.ffmpeg)
        shot = tmp_path / "page.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10000
        if os.environ.get("FFVFX_WRITE_SCREENSHOT") == "1":
            (ROOT / "docs").mkdir(exist_ok=True)
            shutil.copyfile(shot, ROOT / "docs" / "tune-page.png")
        browser.find_element(By.ID, "quit").click()
        out, _ = tuner.proc.communicate(timeout=20)
        assert out.splitlines()[0] == "ffvfx motion ramp.mkv ramp-motion.mp4 --strength=3"
    finally:
        browser.quit()
        tuner.close()


# -- a live source: --lavfi, taken like a camera -------------------------------------------------------
LAVFI = f"color=c=black:s={W}x{H}:r={FPS},format=gray,geq=lum='20+2*mod(N,100)'"
"""A synthetic live source whose frame n is gray 20 + 2 n (to frame 99)."""


def live_reference(ffmpeg: str, *options: str) -> float:
    """Frame 20's mean gray of :data:`LAVFI` through ``ffvfx motion OPTIONS --print``'s graph."""
    res = subprocess.run([*ffvfx_argv(), "motion", *options, "--print"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    out = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", LAVFI,
                          "-frames:v", "30", "-vf", res.stdout.strip(), "-f", "rawvideo", "-pix_fmt", "gray",
                          "pipe:1"], capture_output=True, check=True, timeout=60).stdout
    return float(np.frombuffer(out, np.uint8).reshape(-1, H * W).mean(axis=1)[20])


def test_lavfi_source_is_live_a_shape_change_restarts_at_once_without_seeking(tools, tmp_path):
    ref8, ref5 = (live_reference(tools.ffmpeg, "--mode=black", f"--delay={d}") for d in (8, 5))
    assert abs(ref8 - ref5) > 2
    tuner = Tuner(["motion", "--lavfi", LAVFI, "--mode", "black"], tmp_path, (W, H))
    try:
        tuner.wait_value(ref8, 0, timeout=15)
        pid = tuner.state()["player"]["pid"]
        sent = time.monotonic()
        reply = tuner.set(delay="5")
        new = reply["state"]["player"]["pid"]
        assert reply["how"] == "restart" and new != pid and reply["state"]["player"]["at"] == 0
        argv = Path(f"/proc/{new}/cmdline").read_bytes().split(b"\0")
        assert b"-ss" not in argv and argv[argv.index(b"-i") - 1] == b"lavfi", argv
        tuner.wait_value(ref5, sent, timeout=8)
        time.sleep(1.5)
        frames = tuner.means(1)
        assert len(frames) > 30 and np.allclose(frames[5:30], ref5, atol=0.01), frames[:30]
        out, err = tuner.quit()
    finally:
        tuner.close()
    assert tuner.proc.returncode == 0, err
    command = out.splitlines()[0]
    assert command == f"ffvfx motion --lavfi {shlex.quote(LAVFI)} --preview --mode=black --delay=5"
