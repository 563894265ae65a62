"""A customer's mail whose HTML carries script, event handlers, `javascript:` links, SVG and
remote images, opened in the web client: nothing runs and nothing is fetched from elsewhere."""

import time
import uuid
from email.message import EmailMessage

import requests

PASSWORD = "correct horse battery"
HOSTILE_HTML = """<html><head>
<style>body { background: url(https://tracker.example/bg.png) }</style>
<script>window.parent.pwned = 'script';</script></head>
<body onload="window.parent.pwned = 'onload'">
<p>Hello, my <b onmouseover="window.parent.pwned = 'hover'">order</b> never arrived.</p>
<img src="https://tracker.example/pixel.png" alt="" onerror="window.parent.pwned = 'img'">
<a href="javascript:window.parent.pwned = 'link'">track it</a>
<svg onload="window.parent.pwned = 'svg'"><script>window.parent.pwned = 'svg script'</script></svg>
<iframe src="https://tracker.example/frame"></iframe>
<form action="https://tracker.example/steal"><input name="card"></form>
</body></html>"""


def _until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def test_hostile_mail_html_runs_nothing_and_loads_nothing_remote(stack, browser, screenshot_path):
    api = stack.api_url
    email = f"iso-{uuid.uuid4().hex[:8]}@acme.test"
    signup = requests.post(
        f"{api}/v1/signup",
        json={
            "workspace_name": "Isolation Desk",
            "name": "Ivy",
            "email": email,
            "password": PASSWORD,
        },
        timeout=10,
    ).json()
    auth = {"Authorization": f"Bearer {signup['token']}"}
    message = EmailMessage()
    message["From"] = "Mallory <mallory@customer.test>"
    message["To"] = signup["workspace"]["inbound_address"]
    message["Subject"] = "Where is my order?"
    message.set_content("Hello, my order never arrived.")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    received = requests.post(
        f"http://127.0.0.1:{stack.env['MAIL_PORT']}/_fake/receive",
        params={"recipient": signup["workspace"]["inbound_address"]},
        data=message.as_bytes(),
        timeout=30,
    )
    assert received.ok, received.text
    [ticket] = _until(
        lambda: requests.get(f"{api}/v1/tickets", headers=auth, timeout=10).json()["tickets"]
    )

    page = browser.new_page()
    remote: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if "127.0.0.1" not in r.url else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{api}/app/tickets/{ticket['id']}")
    page.wait_for_url(f"{api}/app/login?next=*")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{api}/app/tickets/{ticket['id']}")

    mail = page.get_by_role("article", name="Message from Mallory")
    assert "never arrived" in mail.inner_text()
    # Nothing of the mail's markup reaches the app's document (the app's own icons aside).
    assert mail.locator("b, svg, img, script").count() == 0
    assert page.locator("#app script:not([src])").count() == 0

    mail.get_by_role("button", name="Show original formatting").click()
    frame_element = mail.locator("iframe")
    frame_element.wait_for()
    sandbox = frame_element.get_attribute("sandbox").split()
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    frame = frame_element.content_frame
    frame.get_by_text("never arrived").wait_for()
    frame.locator("b").hover()
    frame.get_by_text("track it").click(timeout=5000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshot_path), full_page=True)

    assert page.evaluate("window.pwned") is None

    # Even HTML the API's sanitiser never saw stays inert in the app's frame.
    shown = page.evaluate(RAW_HTML_IN_THE_FRAME, HOSTILE_HTML)
    assert "never arrived" in shown
    page.wait_for_timeout(1000)
    [raw] = [f for f in page.frames if f.parent_frame and "order" in f.content()][-1:]
    assert "never arrived" in raw.locator("body").inner_text()
    assert raw.locator("script, svg, img[src], iframe, form, [onload], [onmouseover]").count() == 0
    assert page.get_by_text("Images from other sites are not shown.").count() >= 1
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert remote == [], remote
    page.close()


# Renders unsanitised HTML with the app's own frame component, as a message would be shown.
RAW_HTML_IN_THE_FRAME = """async (hostile) => {
  const { IsolatedHtml } = await import("/app/js/frames.js");
  const { html, render } = await import("/app/js/html.js");
  const host = document.createElement("div");
  document.body.append(host);
  render(html`<${IsolatedHtml} body=${hostile} title="raw" lang="en" />`, host);
  const frame = host.querySelector("iframe");
  await new Promise((done) => frame.addEventListener("load", done, { once: true }));
  return frame.srcdoc;
}"""
