"""The notebooks in a real JupyterLab, driven by headless Chromium: committed outputs render (a figure is visible), and
"Run All" on a short notebook finishes with no error output.

Needs Debian's `chromium` (`.ci/run` installs it) and the `playwright` Python package (dev extra; it drives the system
Chromium, no browser download). Where either is missing the tests skip and say what to install. Screenshots go to
`$IGRPO_SCREENSHOTS` when set (the committed ones in `nbs/images/` were made with `IGRPO_SCREENSHOTS=nbs/images`),
else to the test's temporary folder.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
SHOWN = "03_toy_world.ipynb"  # committed figures to look at
RUN = "00_trajectory.ipynb"  # short enough to run in front of the test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(folder: Path) -> None:
    "User settings for the test's JupyterLab: every cell in the page (no windowing), no news prompt."
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A JupyterLab server on loopback with token auth, serving copies of two notebooks; yields (base url, token, root)."
    if CHROMIUM is None:
        pytest.skip("no Chromium found: install Debian's `chromium` package (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the `playwright` package is missing: pip install -e '.[dev]'")
    root = tmp_path_factory.mktemp("lab")
    for name in (SHOWN, RUN):
        shutil.copy(ROOT / "nbs" / name, root / name)
    shutil.copytree(ROOT / "nbs" / "images", root / "images")
    settings = tmp_path_factory.mktemp("lab-settings")
    _settings(settings)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path_factory.mktemp("lab-workspaces")),
        "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("lab-runtime")),
    }
    env.pop("MPLBACKEND", None)  # the kernel draws figures inline, as for a student
    log = open(root / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),  # CI containers run as root
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"JupyterLab did not start:\n{(root / 'jupyterlab.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield base, token, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


def _shots(tmp_path) -> Path:
    folder = Path(os.environ.get("IGRPO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, lab, name):
    base, token, _ = lab
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    # a workspace of its own per notebook, so that no other notebook is open in the page
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    return page


def test_committed_figures_render(lab, browser, tmp_path):
    page = _open(browser, lab, SHOWN)
    img = page.locator(".jp-OutputArea-output img").first
    img.wait_for(state="attached", timeout=60_000)
    img.scroll_into_view_if_needed()
    img.wait_for(state="visible", timeout=30_000)
    width = page.evaluate("(el) => el.naturalWidth", img.element_handle())
    assert width > 100, f"the first committed figure of {SHOWN} did not load (naturalWidth {width})"
    box = img.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50
    n_images = page.locator(".jp-OutputArea-output img").count()
    assert n_images >= 4, f"{SHOWN} shows {n_images} figures; it commits 4"
    page.evaluate("(el) => el.scrollIntoView({block: 'center'})", img.element_handle())
    page.wait_for_timeout(500)
    page.screenshot(path=str(_shots(tmp_path) / "jupyterlab_figure.png"))
    page.close()


def _diagnosis(page, root: Path) -> str:
    "What a failed wait leaves to read: any dialog's text, the kernel indicator's state and the server log's tail."
    dialogs = page.locator(".jp-Dialog").all_text_contents()
    status = page.evaluate(
        "() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')].map(e => e.dataset.status)"
    )
    log = (root / "jupyterlab.log").read_text()[-2000:]
    return f"dialogs {dialogs}, kernel indicator {status}, server log tail:\n{log}"


def _run_all(page, prompts: str, attempts: int = 3) -> None:
    "Run All from the menu, repeated while no cell has been queued (a click can land before the notebook has focus)."
    queued = f"() => [...document.querySelectorAll('{prompts}')].some(p => p.textContent.trim() !== '[ ]:')"
    for _ in range(attempts):
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(queued, timeout=60_000)
            return
        except Exception:
            page.keyboard.press("Escape")  # close the menu if it stayed open, then try again
    raise TimeoutError(f"Run All queued no cell in {attempts} attempts")


def test_run_all_has_no_error(lab, browser, tmp_path):
    _, _, root = lab
    page = _open(browser, lab, RUN)
    n_code = sum(c["cell_type"] == "code" for c in json.loads((root / RUN).read_text())["cells"])
    page.wait_for_function(f"() => document.querySelectorAll('.jp-CodeCell').length === {n_code}", timeout=60_000)
    prompts = ".jp-CodeCell .jp-InputArea-prompt"
    done = f"""() => {{
        const ps = [...document.querySelectorAll('{prompts}')].map(p => p.textContent.trim());
        return ps.length === {n_code} && ps.every(t => /^\\[\\d+\\]:$/.test(t));
    }}"""
    try:
        # the kernel is started and idle before anything is run (on a loaded machine it can take a minute)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
        _run_all(page, prompts)
        page.wait_for_function(done, timeout=int(os.environ.get("IGRPO_RUN_ALL_TIMEOUT_S", "300")) * 1000)
    except Exception as e:
        seen = page.evaluate(f"() => [...document.querySelectorAll('{prompts}')].map(p => p.textContent.trim())")
        page.screenshot(path=str(tmp_path / "run_all_timeout.png"))
        pytest.fail(f"Run All did not finish ({e}): {n_code} code cells, prompts {seen}; {_diagnosis(page, root)}")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_text_contents()
    assert not [e for e in errors if "Traceback" in e or "Error" in e], errors
    page.keyboard.press("Control+s")
    saved = root / RUN
    deadline = time.time() + 60
    while time.time() < deadline:
        cells = [c for c in json.loads(saved.read_text())["cells"] if c["cell_type"] == "code"]
        if all(c.get("execution_count") for c in cells):
            break
        time.sleep(0.5)
    assert all(c.get("execution_count") for c in cells), "the notebook was not saved with every cell executed"
    bad = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not bad, f"Run All produced errors: {[o['ename'] + ': ' + o['evalue'] for o in bad]}"
    assert any("image/png" in o.get("data", {}) for c in cells for o in c["outputs"]), "no figure after Run All"
    fig = page.locator(".jp-OutputArea-output img").first
    page.evaluate("(el) => el.scrollIntoView({block: 'center'})", fig.element_handle())
    page.wait_for_timeout(500)
    page.screenshot(path=str(_shots(tmp_path) / "jupyterlab_run_all.png"))
    page.close()
