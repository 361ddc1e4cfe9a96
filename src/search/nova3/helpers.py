#VERSION: 1.00
# torrentd's search runtime: the helpers search plugins import.
#
# Written for torrentd; it implements the interface qBittorrent documents
# for its nova3 plugins:
#   retrieve_url(url, custom_headers={}, request_data=None, ssl_context=None,
#                unescape_html_entities=True) -> str   ("" on a connection error)
#   download_file(url, referer=None, ssl_context=None) -> "<temp file> <url>"
#   htmlentitydecode(s), headers (the default request headers),
#   enable_socks_proxy(enable)
# The proxy comes from the environment the daemon sets (http_proxy,
# https_proxy: urllib reads them).
import gzip
import html
import io
import os
import sys
import tempfile
import urllib.error
import urllib.request

headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"}
_headers = headers

htmlentitydecode = html.unescape


def enable_socks_proxy(enable):
    # SOCKS proxies are not supported by this runtime (qbt_socks_proxy is
    # ignored): plugins then connect directly, as without a proxy.
    return None


def _gunzip(data):
    if data[:2] == b"\x1f\x8b":
        with io.BytesIO(data) as raw, gzip.GzipFile(fileobj=raw) as gz:
            return gz.read()
    return data


def retrieve_url(url, custom_headers={}, request_data=None, ssl_context=None, unescape_html_entities=True):
    req = urllib.request.Request(url, request_data, {**headers, **custom_headers})
    try:
        resp = urllib.request.urlopen(req, context=ssl_context)
    except urllib.error.URLError as e:
        print("Connection error: %s" % (e.reason,), file=sys.stderr)
        return ""
    data = _gunzip(resp.read())
    charset = "utf-8"
    ctype = resp.getheader("Content-Type", "") or ""
    if "charset=" in ctype:
        charset = ctype.split("charset=", 1)[1].split(";")[0].strip() or "utf-8"
    try:
        text = data.decode(charset, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    if unescape_html_entities:
        text = html.unescape(text)
    return text


def download_file(url, referer=None, ssl_context=None):
    req = urllib.request.Request(url, headers=headers)
    if referer is not None:
        req.add_header("referer", referer)
    resp = urllib.request.urlopen(req, context=ssl_context)
    data = _gunzip(resp.read())
    fd, path = tempfile.mkstemp(suffix=".torrent")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return "%s %s" % (path, url)
