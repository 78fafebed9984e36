"""B-T: with a timestamp server configured, each signature carries an RFC 3161 timestamp token
from it. The server here is a real HTTP TSA on loopback (pyHanko's reference TSA logic behind
http.server), with its own certificate made now."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.pki import issue_tsa
from tests.signing.conftest import render_pdf, sample


@pytest.fixture
def tsa(ca):
    from asn1crypto import keys, tsp, x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    issued = issue_tsa(ca)
    stamper = DummyTimeStamper(tsa_cert=x509.Certificate.load(issued.der),
                               tsa_key=keys.PrivateKeyInfo.load(issued.key_der()))
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers.get("Content-Type"))
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", requests
    server.shutdown()
    server.server_close()


def test_b_t_signature_carries_the_servers_timestamp(tsa, register, data_dir, tmp_path):
    import subprocess

    from generators.signing import verify_pdf
    from rules.settings import load_settings
    from storage import seals

    url, requests = tsa
    settings = load_settings({"signing": {"signature": {"level": "B-T", "timestamp_url": url}}})
    data = sample("notice")
    organs = register(data)
    signed = seals.sign_document(data_dir, render_pdf("notice", data, settings), organs, settings)
    assert requests == ["application/timestamp-query"]
    result = verify_pdf(signed, seals.registered_certificates(data_dir))
    assert result.ok, result.summary()
    assert result.signatures[0].timestamped
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report and "Total document signed" in report


def test_b_t_needs_a_timestamp_server():
    from rules.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings({"signing": {"signature": {"level": "B-T"}}})
    assert "B-T 级别需要设置时间戳服务地址" in str(caught.value)
    with pytest.raises(SettingsError):
        load_settings({"signing": {"signature": {"level": "B-LTA"}}})
