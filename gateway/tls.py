"""The appliance's own TLS certificate, made on first run, so the LAN pages are served over HTTPS.

Residents' passwords and codes cross the town's network; browsers also refuse WebCrypto (the
captcha's solver) on plain http outside localhost. A self-signed certificate is what a box
with no public name can have; an installer can drop a real one in its place.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_LOGGER = logging.getLogger(__name__)

CERT_FILE: Final = "tocsin-cert.pem"
KEY_FILE: Final = "tocsin-key.pem"
# Ten years: nobody renews a certificate on a box in a town hall closet; browsers warn about
# self-signed certificates whatever their lifetime.
VALID_DAYS: Final = 3650


@dataclass(frozen=True)
class CertificatePaths:
    certificate: Path
    key: Path


def is_loopback(host: str) -> bool:
    """Plain HTTP is allowed only where nothing crosses a network."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_certificate(directory: Path, host: str) -> CertificatePaths:
    """The certificate in `directory`, created (with its key, mode 0600) if missing."""
    paths = CertificatePaths(directory / CERT_FILE, directory / KEY_FILE)
    if paths.certificate.exists() and paths.key.exists():
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    # Imported here: ~9 MB of RSS the running service needs only on its very first start.
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname()
    names: list[x509.GeneralName] = [x509.DNSName(hostname), x509.DNSName("localhost")]
    if f"{hostname}.local" != hostname:
        names.append(x509.DNSName(f"{hostname}.local"))  # mDNS name of a Raspberry Pi
    for address in {host, "127.0.0.1"}:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if not ip.is_unspecified:
            names.append(x509.IPAddress(ip))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(paths.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _LOGGER.info("created a self-signed TLS certificate in %s", directory)
    return paths
