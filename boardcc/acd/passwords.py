"""Agent passwords: scrypt hashes, never the password itself (SPEC Q3).

A hash is ``scrypt$N$r$p$salt$digest`` (salt and digest in base64), so that the cost can be
raised later and old hashes still check. The comparison is constant-time. Job numbers and
passwords are keyed on desk phones, so a password of digits is normal; a short one is the
site's choice, but an empty one is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from boardcc.acd.settings import HASH_PREFIX

#: scrypt cost: 2**14 x 8 x 1 takes some 30-60 ms and 16 MB, once per login.
N, R, P = 2**14, 8, 1


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """A new salted scrypt hash of `password`."""
    if not password:
        raise ValueError("a password may not be empty / 密码不能为空")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"{HASH_PREFIX}{n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches the hash `stored` (False for a damaged hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme + "$" != HASH_PREFIX:
            return False
        want = base64.b64decode(digest, validate=True)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, want)
