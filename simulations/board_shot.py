"""The README's picture of the supervisor's board: docs/board.png, taken during an emulated day.

Starts `dialer serve` on a free loopback port (a store in a temporary folder),
drives it with `dialer emulate` (the embedded default scenario, or the one
given), opens the board in Debian's headless Chromium, waits until the
campaign's clock passes `--at` (local time, the middle of the day by
default) and saves the screenshot; then stops the browser, the emulation and
the server. `--speed N` paces the day at N times real time (`dialer emulate
--speed`); without it the day runs as fast as the service answers.

    python simulations/board_shot.py                        # writes docs/board.png
    python simulations/board_shot.py --at 11:00 --out /tmp/board.png
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the embedded default scenario)")
    p.add_argument("--at", default="13:30", help="local time of the campaign's clock to take the picture at (HH:MM)")
    p.add_argument("--out", default=str(ROOT / "docs" / "board.png"))
    p.add_argument("--size", default="1600,1000", help="browser window, pixels (default 1600,1000)")
    p.add_argument("--seed", default="0")
    p.add_argument("--speed", help="pace the day at N times real time (dialer emulate --speed N)")
    args = p.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromeService
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    driver = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            procs.append(subprocess.Popen([sys.executable, "-m", "dialer.cli", "serve", "--port", str(port),
                                           "--store", str(Path(tmp) / "board.sqlite")], stderr=subprocess.DEVNULL))
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            emulate = [sys.executable, "-m", "dialer.cli", "emulate", "--url", url, "--seed", args.seed, "--prefix", "demo-"]
            if args.speed:
                emulate += ["--speed", args.speed]
            if args.scenario:
                emulate.append(args.scenario)
            procs.append(subprocess.Popen(emulate, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--window-size={args.size}", "--hide-scrollbars"):
                options.add_argument(arg)
            driver = webdriver.Chrome(service=ChromeService("/usr/bin/chromedriver"), options=options)
            driver.get(url + "/")

            def clock_passed(d) -> bool:
                shown = d.execute_script(  # read in the page at once: a panel is redrawn as it changes
                    "return [...document.querySelectorAll('[data-k=clock]')].map((e) => e.textContent)")
                return any(len(t.split()) >= 5 and t.split()[4][:5] >= args.at for t in shown)

            WebDriverWait(driver, 1800, poll_frequency=0.2).until(clock_passed)
            driver.save_screenshot(args.out)
            print(f"wrote {args.out}")
        finally:
            if driver is not None:
                driver.quit()
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=60)


if __name__ == "__main__":
    main()
