"""Take the README's screenshots of the demo database in headless Chromium.

Run by tools/screenshots.sh, which builds the demo database and starts Odoo on
``--url``. Drives Chromium through the DevTools protocol (``websocket-client``, the
module Odoo's own browser tests use) and writes PNG files into ``--out``.
"""

import argparse
import base64
import html
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import websocket

WIDTH, HEIGHT = 1600, 900


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Odoo:
    """JSON-RPC client of the running server, with its own session."""

    def __init__(self, url, db, login, password):
        self.url = url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )
        self.call("/web/session/authenticate", db=db, login=login, password=password)

    def call(self, path, **params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params})
        request = urllib.request.Request(
            self.url + path,
            body.encode(),
            {"Content-Type": "application/json"},
        )
        with self.opener.open(request, timeout=120) as response:
            result = json.loads(response.read())
        if result.get("error"):
            raise RuntimeError(result["error"]["data"]["message"])
        return result["result"]

    def execute(self, model, method, *args, **kwargs):
        return self.call(
            "/web/dataset/call_kw",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    @property
    def session_id(self):
        return next(c.value for c in self.jar if c.name == "session_id")


class Chrome:
    """Headless Chromium driven through the DevTools protocol."""

    def __init__(self, executable):
        self.profile = tempfile.mkdtemp(prefix="acb-chrome-")
        port = free_port()
        self.process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as resp:
                    pages = [p for p in json.loads(resp.read()) if p["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("Chromium did not start")
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self.next_id = 0
        self.send("Page.enable")
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.send("Page.navigate", url=url)

    def wait(self, selector, timeout=60):
        """Wait until ``selector`` is in the page and Odoo has finished loading."""
        check = (
            f"!!document.querySelector({json.dumps(selector)}) && "
            "!document.querySelector('.o_loading_indicator, .o_blockUI')"
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(check):
                    time.sleep(1.0)  # animations, fonts, lazy images
                    return
            except RuntimeError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"timeout waiting for {selector}")

    def click(self, selector):
        self.wait(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def do_action(self, action, **options):
        self.evaluate(
            "odoo.__WOWL_DEBUG__.root.env.services.action.doAction("
            f"{json.dumps(action)}, {json.dumps(options)}).then(() => true)"
        )

    def shot(self, path, selector=None):
        params = {"format": "png"}
        if selector:
            box = self.evaluate(
                "(() => { const r = document.querySelector("
                f"{json.dumps(selector)}).getBoundingClientRect();"
                " return {x: r.x, y: r.y, width: r.width, height: r.height}; })()"
            )
            params["clip"] = {**box, "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        print(f"wrote {path}")

    def login(self, url, session_id):
        host = url.split("//", 1)[1].split(":")[0].split("/")[0]
        self.send("Network.clearBrowserCookies")
        self.send(
            "Network.setCookie",
            name="session_id",
            value=session_id,
            domain=host,
            path="/",
        )

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            shutil.rmtree(self.profile, ignore_errors=True)


def html_page(chrome, out_dir, name, body, base_url, title):
    """Show an email body as a mail client would, and take its screenshot."""
    page = Path(out_dir) / f".{name}.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<base href='{base_url}/'><title>{html.escape(title)}</title>"
        "<style>body{margin:0;background:#f4f4f4;font-family:Arial,sans-serif}"
        ".subject{background:#fff;border-bottom:1px solid #ddd;padding:14px 24px;"
        "font-size:18px;font-weight:bold}.mail{background:#fff;margin:16px auto;"
        "max-width:900px;padding:8px;box-shadow:0 1px 3px #ccc}</style></head><body>"
        f"<div class='subject'>{html.escape(title)}</div>"
        f"<div class='mail'>{body}</div></body></html>",
        encoding="utf-8",
    )
    chrome.goto(page.resolve().as_uri())
    chrome.wait(".mail")
    height = chrome.evaluate("document.documentElement.scrollHeight")
    chrome.send(
        "Emulation.setDeviceMetricsOverride",
        width=1100,
        height=min(max(height, 400), 2000),
        deviceScaleFactor=1,
        mobile=False,
    )
    time.sleep(0.5)
    chrome.shot(Path(out_dir) / f"{name}.png")
    chrome.send(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=HEIGHT,
        deviceScaleFactor=1,
        mobile=False,
    )
    page.unlink()


def shoot_customer_portal(chrome, admin, url, out):
    """/my/collections as the customer sees it, opened with the (signed) link of
    the latest customer email."""
    mails = admin.execute(
        "mail.mail",
        "search_read",
        [("model", "=", "account.move"), ("body_html", "ilike", "/my/collections")],
        ["body_html"],
        limit=1,
        order="id desc",
    )
    if not mails:
        print("no customer email with a portal link: skipped", file=sys.stderr)
        return
    token = mails[0]["body_html"].split("/my/collections?access_token=")[1]
    token = html.unescape(token.split('"')[0])
    chrome.goto(f"{url}/my/collections?access_token={token}")
    chrome.wait(".o_collection_invoices tbody tr")
    chrome.shot(out / "customer_portal.png")


def shoot_statement(admin, url, out):
    """The customer statement PDF of the customer who owes the most, as an image
    of its first page (pdftoppm, from poppler-utils)."""
    rows = admin.execute(
        "account.move",
        "read_group",
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ],
        ["amount_residual_signed:sum"],
        ["commercial_partner_id"],
        orderby="amount_residual_signed desc",
        limit=1,
    )
    pdftoppm = shutil.which("pdftoppm")
    if not rows or not pdftoppm:
        print("no customer or no pdftoppm: statement skipped", file=sys.stderr)
        return
    customer_id = rows[0]["commercial_partner_id"][0]
    report = "account_collections.report_customer_statement"
    with admin.opener.open(
        f"{url}/report/pdf/{report}/{customer_id}", timeout=300
    ) as r:
        pdf = r.read()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "statement.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "90",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(source),
                str(out / "statement"),
            ],
            check=True,
        )
    print(f"wrote {out / 'statement.png'}")


def shoot_record(chrome, url, action, record_id, selector, path):
    chrome.goto(f"{url}/odoo/action-{action}/{record_id}")
    chrome.wait(selector)
    chrome.shot(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = args.url.rstrip("/")

    admin = Odoo(url, args.db, "admin", "admin")
    chrome = Chrome(args.chromium)
    try:
        chrome.login(url, admin.session_id)

        # The salespeople's worklist, as their manager sees it (grouped by salesperson)
        chrome.goto(
            f"{url}/odoo/action-account_collections.collection_worklist_action_server"
        )
        chrome.wait(".o_list_renderer .o_group_header")
        chrome.evaluate(
            "document.querySelectorAll('.o_group_header').forEach("
            "(row, i) => i < 2 && row.click())"
        )
        chrome.wait(".o_list_renderer .o_data_row")
        chrome.shot(out / "worklist.png")

        # Invoices in collection, by stage
        chrome.goto(
            f"{url}/odoo/action-account_collections.account_move_action_collection"
        )
        chrome.wait(".o_kanban_renderer .o_kanban_record")
        chrome.shot(out / "invoices_by_stage.png")

        # An invoice's chatter: the invoice with the most collection activity
        invoices = admin.execute(
            "account.move",
            "search_read",
            [
                ("move_type", "=", "out_invoice"),
                ("collection_stage_id", "!=", False),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            ["id", "message_ids", "activity_ids", "collection_promise_ids"],
        )
        emailed = {
            message["res_id"]
            for message in admin.execute(
                "mail.message",
                "search_read",
                [
                    ("model", "=", "account.move"),
                    ("res_id", "in", [m["id"] for m in invoices]),
                    ("message_type", "=", "comment"),
                    ("partner_ids", "!=", False),
                ],
                ["res_id"],
            )
        }
        invoice = max(
            invoices,
            key=lambda m: (
                bool(m["activity_ids"]),
                m["id"] in emailed,
                bool(m["collection_promise_ids"]),
                len(m["message_ids"]),
            ),
        )
        chrome.goto(
            f"{url}/odoo/action-account_collections.account_move_action_collection"
            f"/{invoice['id']}"
        )
        chrome.wait(".o-mail-Chatter .o-mail-Message")
        chrome.click(".o_notebook .nav-link[name='collection']")
        chrome.wait(".o_notebook .nav-link.active[name='collection']")
        chrome.shot(out / "invoice_chatter.png")

        # The dashboard (KPI history), then the aging wizard and the aging
        chrome.goto(
            f"{url}/odoo/action-account_collections.collection_kpi_dashboard_action"
        )
        chrome.wait(".o_collection_kpi_card .o_collection_kpi_value")
        chrome.wait(".o_collection_kpi_chart svg")
        chrome.shot(out / "dashboard.png")
        chrome.do_action("account_collections.collection_aging_wizard_action")
        chrome.wait(".modal .o_field_widget[name='date_at']")
        chrome.shot(out / "aging_wizard.png")
        chrome.click(".modal footer button[name='action_view_aging']")
        chrome.wait(".o_pivot table")
        chrome.shot(out / "aging.png")

        # Segments, a payment plan, an experiment's results, the statement
        chrome.goto(f"{url}/odoo/action-account_collections.collection_segment_action")
        chrome.wait(".o_list_renderer .o_data_row")
        chrome.shot(out / "segments.png")
        plans = admin.execute("collection.plan", "search", [], limit=1)
        if plans:
            shoot_record(
                chrome,
                url,
                "account_collections.collection_plan_action",
                plans[0],
                ".o_field_widget[name='installment_ids'] .o_data_row",
                out / "payment_plan.png",
            )
        experiments = admin.execute(
            "collection.experiment", "search", [("state", "=", "running")], limit=1
        )
        if experiments:
            shoot_record(
                chrome,
                url,
                "account_collections.collection_experiment_action",
                experiments[0],
                ".o_field_widget[name='results_html'] table",
                out / "experiment.png",
            )
        shoot_statement(admin, url, out)

        # Promises to pay on their calendar, if the demo has any
        if admin.execute("collection.promise", "search_count", []):
            chrome.goto(
                f"{url}/odoo/action-account_collections.collection_promise_action"
            )
            chrome.click(".o_switch_view.o_calendar")
            chrome.wait(".o_calendar_renderer .fc-event")
            chrome.shot(out / "promises_calendar.png")

        # A customer email (overdue notice) and the weekly portfolio email
        for name, domain in (
            (
                "customer_email",
                # the latest collection email: the one with the statement attached
                [("model", "=", "account.move"), ("attachment_ids", "!=", False)],
            ),
            ("weekly_email", [("subject", "ilike", "portfolio status")]),
        ):
            mails = admin.execute(
                "mail.mail",
                "search_read",
                domain,
                ["subject", "body_html"],
                limit=1,
                order="id desc",
            )
            if not mails:
                print(f"no email for {name}: skipped", file=sys.stderr)
                continue
            html_page(
                chrome, out, name, mails[0]["body_html"], url, mails[0]["subject"]
            )

        # The customer's page on the portal, through the link of a customer email
        shoot_customer_portal(chrome, admin, url, out)

        # The same worklist in Spanish, as a salesperson sees it
        carlos = Odoo(url, args.db, "carlos", "carlos")
        chrome.login(url, carlos.session_id)
        chrome.goto(
            f"{url}/odoo/action-account_collections.collection_worklist_action_server"
        )
        chrome.wait(".o_list_renderer .o_data_row")
        chrome.shot(out / "worklist_es.png")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
