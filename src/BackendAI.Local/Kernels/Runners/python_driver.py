# BackendAI.Local python kernel driver.
#
# Speaks newline-delimited JSON with the server. The protocol uses private
# duplicates of the original stdin/stdout file descriptors; fd 0 is replaced by
# /dev/null and fds 1/2 by pipes whose contents are forwarded as stdout/stderr
# records, so neither user code nor child processes can corrupt the protocol.
#
# server -> driver: {"t": "exec", "code": str}
#                   {"t": "input", "text": str}
#                   {"t": "complete", "id": int, "code": str}
# driver -> server: {"t": "ready"}
#                   {"t": "out"|"err", "d": str}
#                   {"t": "media", "mime": str, "d": str}
#                   {"t": "input", "prompt": str, "pw": bool}
#                   {"t": "done", "exit": int}
#                   {"t": "completions", "id": int, "items": [str]}
import ast
import base64
import builtins
import codecs
import fcntl
import getpass
import json
import os
import queue
import select
import signal
import sys
import threading
import time
import traceback

CHUNK = 32768

_proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8", newline="\n")
_proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
_log = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
_send_lock = threading.Lock()
_main_thread = threading.main_thread()
_in_send = [0]
_pending_interrupt = [False]


def _on_sigint(signum, frame):
    # never tear a protocol line apart: defer the interrupt until the line is out
    if _in_send[0]:
        _pending_interrupt[0] = True
        return
    raise KeyboardInterrupt


signal.signal(signal.SIGINT, _on_sigint)


def send(msg):
    line = json.dumps(msg, ensure_ascii=False) + "\n"
    on_main = threading.current_thread() is _main_thread
    if on_main:
        _in_send[0] += 1
    try:
        with _send_lock:
            _proto_out.write(line)
            _proto_out.flush()
    finally:
        if on_main:
            _in_send[0] -= 1
            if _in_send[0] == 0 and _pending_interrupt[0]:
                _pending_interrupt[0] = False
                raise KeyboardInterrupt


def send_text(kind, text):
    for i in range(0, len(text), CHUNK):
        send({"t": kind, "d": text[i:i + CHUNK]})


# Output is batched: consecutive writes to one stream are joined and sent when the stream
# changes, the batch grows past CHUNK, before any other record, or every FLUSH_INTERVAL.
FLUSH_INTERVAL = 0.05
_buf_lock = threading.Lock()
_buf = {"kind": None, "parts": [], "size": 0}


def _flush_locked():
    if _buf["parts"]:
        text = "".join(_buf["parts"])
        kind = _buf["kind"]
        _buf["parts"] = []
        _buf["size"] = 0
        send_text(kind, text)


def emit(kind, text):
    with _buf_lock:
        if _buf["kind"] != kind:
            _flush_locked()
            _buf["kind"] = kind
        _buf["parts"].append(text)
        _buf["size"] += len(text)
        if _buf["size"] >= CHUNK:
            _flush_locked()


def flush_output():
    with _buf_lock:
        _flush_locked()


def _flusher():
    while True:
        time.sleep(FLUSH_INTERVAL)
        try:
            flush_output()
        except Exception:
            pass


_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)


class FdForwarder:
    """Owns a pipe installed on a standard fd and forwards what children write to it."""

    def __init__(self, fd, kind):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        flags = fcntl.fcntl(r, fcntl.F_GETFL)
        fcntl.fcntl(r, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self.r = r
        self.kind = kind
        self.lock = threading.Lock()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        threading.Thread(target=self.loop, daemon=True).start()

    def drain(self):
        with self.lock:
            while True:
                try:
                    data = os.read(self.r, 65536)
                except BlockingIOError:
                    return
                if not data:
                    return
                text = self.decoder.decode(data)
                if text:
                    emit(self.kind, text)

    def loop(self):
        while True:
            try:
                select.select([self.r], [], [])
            except InterruptedError:
                continue
            self.drain()


_fwd_out = FdForwarder(1, "out")
_fwd_err = FdForwarder(2, "err")


class _BinaryWriter:
    """The .buffer of a Writer: bytes are decoded as UTF-8 and sent as text."""

    def __init__(self, kind):
        self.kind = kind
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, b):
        text = self.decoder.decode(bytes(b))
        if text:
            emit(self.kind, text)
        return len(b)

    def flush(self):
        flush_output()


class Writer:
    """sys.stdout / sys.stderr replacement that sends framed records."""

    def __init__(self, kind, fd):
        self.kind = kind
        self.fd = fd
        self.encoding = "utf-8"
        self.errors = "replace"
        self.buffer = _BinaryWriter(kind)

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not " + type(s).__name__)
        if s:
            emit(self.kind, s)
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        flush_output()

    def isatty(self):
        return False

    def fileno(self):
        return self.fd

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    @property
    def closed(self):
        return False


sys.stdout = sys.__stdout__ = Writer("out", 1)
sys.stderr = sys.__stderr__ = Writer("err", 2)

_exec_queue = queue.Queue()
_input_queue = queue.Queue()
_user_ns = {"__name__": "__main__", "__builtins__": builtins}


def _read_input(prompt, password):
    flush_output()
    send({"t": "input", "prompt": str(prompt), "pw": bool(password)})
    text = _input_queue.get()
    if text is None:
        raise EOFError("input is not available")
    return text


def _input(prompt=""):
    return _read_input(prompt, False)


def _getpass(prompt="Password: ", stream=None):
    return _read_input(prompt, True)


def display_media(mime, data):
    """Sends a media console record; bytes become an RFC 2397 data URI."""
    if isinstance(data, (bytes, bytearray)):
        data = "data:%s;base64,%s" % (mime, base64.b64encode(bytes(data)).decode("ascii"))
    flush_output()
    send({"t": "media", "mime": str(mime), "d": str(data)})


builtins.input = _input
getpass.getpass = _getpass
builtins.display_media = display_media


def _reader():
    import rlcompleter
    completer = rlcompleter.Completer(_user_ns)
    for line in _proto_in:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        kind = msg.get("t")
        if kind == "exec":
            _exec_queue.put(msg.get("code") or "")
        elif kind == "input":
            _input_queue.put(msg.get("text") or "")
        elif kind == "complete":
            items = []
            try:
                text = msg.get("code") or ""
                word = text
                for sep in " \t\n()[]{},;=+-*/%<>!&|^~:'\"":
                    word = word.rsplit(sep, 1)[-1]
                state = 0
                while state < 200:
                    item = completer.complete(word, state)
                    if item is None:
                        break
                    items.append(item)
                    state += 1
            except Exception:
                items = []
            send({"t": "completions", "id": msg.get("id"), "items": items})
    # the server closed our stdin: shut down
    _input_queue.put(None)
    _exec_queue.put(None)


def _run_cell(code):
    tree = ast.parse(code, "<cell>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), _user_ns)
    if last is not None:
        value = eval(compile(last, "<cell>", "eval"), _user_ns)
        if value is not None:
            _user_ns["_"] = value
            print(repr(value))


def _print_exception():
    etype, value, tb = sys.exc_info()
    # drop the driver's own frames
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    sys.stderr.write("".join(traceback.format_exception(etype, value, tb)))


def main():
    threading.Thread(target=_reader, daemon=True).start()
    threading.Thread(target=_flusher, daemon=True).start()
    send({"t": "ready"})
    while True:
        try:
            code = _exec_queue.get()
        except KeyboardInterrupt:
            continue
        if code is None:
            break
        exit_code = 0
        # discard input left over from an earlier run
        while not _input_queue.empty():
            try:
                _input_queue.get_nowait()
            except queue.Empty:
                break
        try:
            try:
                _run_cell(code)
            except SystemExit as e:
                if e.code is None:
                    exit_code = 0
                elif isinstance(e.code, int):
                    exit_code = e.code
                else:
                    sys.stderr.write(str(e.code) + "\n")
                    exit_code = 1
            except BaseException:
                _print_exception()
        except KeyboardInterrupt:
            # an interrupt that arrived while reporting the previous one
            sys.stderr.write("KeyboardInterrupt\n")
        try:
            _fwd_out.drain()
            _fwd_err.drain()
            flush_output()
        except KeyboardInterrupt:
            pass
        try:
            send({"t": "done", "exit": exit_code})
        except KeyboardInterrupt:
            pass


main()
