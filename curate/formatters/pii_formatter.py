"""Replace e-mail addresses and public IP addresses with fixed placeholder values.

FineWeb (Penedo et al. 2024, arXiv:2406.17557, PII anonymization of the final dataset) and
FineWeb2 (arXiv:2506.20920, "finishing touches") anonymise the two kinds of PII that regexes find reliably:
e-mail addresses and public IPv4 addresses. Private, loopback, link-local, reserved and other
non-global addresses (``ipaddress``'s ``is_global`` is False) are not personal and stay. The
defaults (placeholders included) are FineWeb's (datatrove ``PIIFormatter``): ``example.com`` /
``example.org`` addresses are reserved for examples, and the IPs are random addresses that did
not answer pings. Replacements cycle through the list within each document — deterministic per
document, whatever the shard order.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import ClassVar

from curate.formatters._base import TextFormatter

# local part: RFC 5322 "atext" dot-atoms; domain: dot-separated labels (<= 63 chars, no edge
# hyphen) or an IPv4 literal in brackets. Bounded repetitions keep backtracking linear.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    rf"@(?:(?:{_LABEL}\.)+{_LABEL}|\[(?:\d{{1,3}}\.){{3}}\d{{1,3}}\])"
)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# not glued to other digits or dots ("1.2.3.4.5" and "v10.0.0.1" digits are not addresses)
_IPV4 = re.compile(rf"(?<![0-9.])(?:{_OCTET}\.){{3}}{_OCTET}(?![0-9]|\.[0-9])")


def _is_public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


class PIIFormatter(TextFormatter):
    """Replace e-mails and public IPv4 addresses (FineWeb/FineWeb2 PII step)."""

    name: ClassVar[str] = "pii"

    def __init__(
        self,
        remove_emails: bool = True,
        remove_ips: bool = True,
        only_remove_public_ips: bool = True,
        email_replacement: str | Sequence[str] = ("email@example.com", "firstname.lastname@example.org"),
        ip_replacement: str | Sequence[str] = (
            "22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168",
        ),
    ) -> None:
        self.remove_emails = remove_emails
        self.remove_ips = remove_ips
        self.only_remove_public_ips = only_remove_public_ips
        self.email_replacement = [email_replacement] if isinstance(email_replacement, str) else list(email_replacement)
        self.ip_replacement = [ip_replacement] if isinstance(ip_replacement, str) else list(ip_replacement)
        if not self.email_replacement or not self.ip_replacement:
            raise ValueError("pii: email_replacement and ip_replacement need at least one value")

    def format(self, text: str) -> str:
        if self.remove_emails and "@" in text:
            i = iter(range(1 << 62))
            emails = self.email_replacement
            text = _EMAIL.sub(lambda m: emails[next(i) % len(emails)], text)
        if self.remove_ips and "." in text:
            j = iter(range(1 << 62))
            ips = self.ip_replacement
            public_only = self.only_remove_public_ips

            def replace_ip(m: re.Match[str]) -> str:
                ip = m.group(0)
                if public_only and not _is_public(ip):
                    return ip
                return ips[next(j) % len(ips)]

            text = _IPV4.sub(replace_ip, text)
        return text
