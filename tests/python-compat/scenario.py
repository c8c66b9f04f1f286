#!/usr/bin/env python3
"""Compatibility scenario: drive BackendAI.Local with the official Backend.AI Python SDK.

Uses only the SDK's public API (ai.backend.client.session.Session / AsyncSession and the
function classes they expose). Every step prints PASS or FAIL with the reason; the exit code
is the number of failed steps. See README.md next to this file for how to run it.

Environment: BACKEND_ENDPOINT, BACKEND_ACCESS_KEY, BACKEND_SECRET_KEY (as for the SDK itself).
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

from ai.backend.client.exceptions import BackendAPIError
from ai.backend.client.session import AsyncSession, Session

IMAGE = os.environ.get("COMPAT_IMAGE", "python:3.11")
failures: list[str] = []
results: list[tuple[str, str, str]] = []


def record(step: str, ok: bool, reason: str = "") -> None:
    status = "PASS" if ok else "FAIL"
    results.append((step, status, reason))
    if not ok:
        failures.append(step)
    print(f"{status} {step}" + (f" -- {reason}" if reason else ""), flush=True)


def step(name: str):
    """Runs a synchronous check; an exception or a falsy/str result is a failure."""
    def wrap(fn):
        try:
            out = fn()
            if out is True or out is None:
                record(name, True)
            else:
                record(name, False, str(out))
        except Exception as e:  # noqa: BLE001 - the scenario reports every failure and goes on
            record(name, False, f"{type(e).__name__}: {e}")
            if os.environ.get("COMPAT_VERBOSE"):
                traceback.print_exc()
        return fn
    return wrap


async def astep(name: str, coro_fn) -> None:
    try:
        out = await asyncio.wait_for(coro_fn(), timeout=60)
        if out is True or out is None:
            record(name, True)
        else:
            record(name, False, str(out))
    except Exception as e:  # noqa: BLE001
        record(name, False, f"{type(e).__name__}: {e}")
        if os.environ.get("COMPAT_VERBOSE"):
            traceback.print_exc()


def run_to_finish(sess, code: str, mode: str = "query", opts=None, inputs=()):
    """execute() with the continuation loop the SDK documents; returns (console, last result)."""
    run_id = uuid.uuid4().hex
    console = []
    pending_inputs = list(inputs)
    result = sess.execute(run_id, code, mode=mode, opts=opts)
    for _ in range(200):
        console.extend(result.get("console") or [])
        status = result["status"]
        if status == "finished":
            return console, result
        if status == "waiting-input":
            result = sess.execute(run_id, pending_inputs.pop(0) if pending_inputs else "", mode="input")
        elif status in ("continued", "build-finished", "clean-finished"):
            result = sess.execute(run_id, "", mode="continue")
        else:
            raise AssertionError(f"unexpected run status {status!r}: {result}")
    raise AssertionError("run did not finish after 200 continuations")


def stdout_of(console) -> str:
    return "".join(item[1] for item in console if item[0] == "stdout")


def sync_part(workdir: Path) -> None:
    with Session() as api:
        @step("Session open: GET / version negotiation picks v6+")
        def _():
            v = api.api_version
            return True if v[0] >= 6 else f"negotiated {v}"

        @step("ComputeSession.hello (GET /)")
        def _():
            info = api.ComputeSession.hello()
            return True if "version" in info and "manager" in info else f"body {info}"

        name = f"pycompat-{uuid.uuid4().hex[:6]}"
        holder = {}

        @step("ComputeSession.get_or_create python image (POST /session)")
        def _():
            s = api.ComputeSession.get_or_create(IMAGE, name=name, resources={"cpu": 1, "mem": "256m"})
            holder["s"] = s
            ok = s.id is not None and s.status in ("RUNNING", "PENDING", "PREPARING", "PULLING")
            return True if ok else f"id={s.id} status={s.status}"

        s = holder.get("s")
        if s is None:
            return

        @step("ComputeSession.get_or_create reuses the named session (created=False)")
        def _():
            again = api.ComputeSession.get_or_create(IMAGE, name=name)
            return True if (again.created is False and again.id == s.id) else f"created={again.created} id={again.id}"

        @step("execute query mode prints stdout")
        def _():
            console, res = run_to_finish(s, "print(6 * 7)")
            return True if "42" in stdout_of(console) else f"console={console} result={res}"

        @step("execute keeps interpreter state between runs")
        def _():
            run_to_finish(s, "pycompat_x = 21")
            console, _ = run_to_finish(s, "print(pycompat_x * 2)")
            return True if "42" in stdout_of(console) else f"console={console}"

        @step("execute continuation (long run answers 'continued')")
        def _():
            console, _ = run_to_finish(s, "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(1)\n")
            out = stdout_of(console)
            return True if all(str(i) in out for i in range(3)) else f"stdout={out!r}"

        @step("execute user input (waiting-input -> mode=input)")
        def _():
            console, _ = run_to_finish(s, "x = input('name? ')\nprint('hello', x)", inputs=["compat"])
            return True if "hello compat" in stdout_of(console) else f"console={console}"

        @step("execute error surfaces in stderr/exceptions")
        def _():
            console, res = run_to_finish(s, "raise ValueError('boom')")
            text = json.dumps(console)
            return True if "boom" in text else f"console={console} result={res}"

        src = workdir / "upload_me.txt"
        src.write_text("compat-upload\n")

        @step("ComputeSession.upload (multipart 'src' parts)")
        def _():
            s.upload([str(src)], basedir=str(workdir))

        @step("ComputeSession.list_files (GET .../files with JSON body)")
        def _():
            listing = s.list_files(".")
            names = [f["filename"] for f in json.loads(listing["files"])] if isinstance(listing.get("files"), str) else [f.get("filename") for f in listing.get("files", [])]
            return True if "upload_me.txt" in names else f"listing={listing}"

        @step("execute batch mode (build + exec)")
        def _():
            console, res = run_to_finish(s, "", mode="batch", opts={"build": "*", "exec": "cat upload_me.txt"})
            return True if "compat-upload" in stdout_of(console) else f"console={console} result={res}"

        dl = workdir / "dl"
        dl.mkdir()

        @step("ComputeSession.download (multipart of tar parts)")
        def _():
            got = s.download(["upload_me.txt"], dest=str(dl))
            data = (dl / "upload_me.txt").read_text() if (dl / "upload_me.txt").exists() else None
            return True if data == "compat-upload\n" else f"result={got} files={list(dl.rglob('*'))}"

        @step("ComputeSession.get_info (GET /session/{name})")
        def _():
            info = s.get_info()
            return True if "status" in info or "lang" in info else f"info={info}"

        @step("ComputeSession.get_logs (GET /session/{name}/logs)")
        def _():
            logs = s.get_logs()
            return True if "result" in logs and "logs" in logs["result"] else f"logs={logs}"

        @step("ComputeSession.interrupt (POST .../interrupt)")
        def _():
            s.interrupt()

        @step("ComputeSession.restart (PATCH /session/{name})")
        def _():
            s.restart()
            console, _ = run_to_finish(s, "print('after-restart')")
            return True if "after-restart" in stdout_of(console) else f"console={console}"

        @step("ComputeSession.paginated_list (GraphQL compute_session_list, as `ps`)")
        def _():
            items = list(api.ComputeSession.paginated_list(status="RUNNING", fields=["id", "name", "image", "status"]))
            return True if any(i.get("name") == name for i in items) else f"items={items}"

        @step("Admin.query compute_session_list with variables")
        def _():
            data = api.Admin.query(
                "query($limit:Int!, $offset:Int!) { compute_session_list(limit:$limit, offset:$offset) { items { id name status } total_count } }",
                {"limit": 10, "offset": 0})
            return True if data["compute_session_list"]["total_count"] >= 1 else f"data={data}"

        @step("KeyPair(...).info via GraphQL `keypair`")
        def _():
            info = api.KeyPair(api.config.access_key).info()
            return True if info.get("access_key") == api.config.access_key else f"info={info}"

        @step("KeyPair.list via GraphQL `keypairs`")
        def _():
            kps = api.KeyPair.list()
            return True if any(k.get("access_key") == api.config.access_key for k in kps) else f"list={kps}"

        @step("Agent.paginated_list via GraphQL `agent_list`")
        def _():
            items = list(api.Agent.paginated_list(fields=["id", "status"]))
            return True if items else "no agents listed"

        vname = f"pyc{uuid.uuid4().hex[:6]}"

        @step("VFolder.list_hosts")
        def _():
            hosts = api.VFolder.list_hosts()
            return True if hosts.get("allowed") and hosts.get("default") else f"hosts={hosts}"

        @step("VFolder.create")
        def _():
            r = api.VFolder.create(vname)
            return True if r.get("name") == vname and r.get("id") else f"create={r}"

        @step("VFolder.list (GET /folders with JSON body)")
        def _():
            folders = api.VFolder.list()
            return True if any(f.get("name") == vname for f in folders) else f"folders={folders}"

        @step("VFolder.info")
        def _():
            info = api.VFolder(vname).info()
            return True if info.get("name") == vname else f"info={info}"

        @step("VFolder.mkdir")
        def _():
            api.VFolder(vname).mkdir("sub")

        vsrc = workdir / "vf_data.txt"
        vsrc.write_bytes(b"vfolder-bytes\n" * 100)

        @step("VFolder.upload (request-upload + tus HEAD/PATCH)")
        def _():
            api.VFolder(vname).upload(["vf_data.txt"], basedir=workdir)

        @step("VFolder.list_files")
        def _():
            listing = api.VFolder(vname).list_files(".")
            files = listing.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            names = [f.get("filename") for f in files]
            return True if "vf_data.txt" in names and "sub" in names else f"listing={listing}"

        @step("VFolder.rename_file")
        def _():
            api.VFolder(vname).rename_file("vf_data.txt", "renamed.txt")

        vdl = workdir / "vdl"
        vdl.mkdir()

        @step("VFolder.download (request-download + GET with token)")
        def _():
            api.VFolder(vname).download(["renamed.txt"], basedir=vdl)
            data = (vdl / "renamed.txt").read_bytes()
            return True if data == b"vfolder-bytes\n" * 100 else f"{len(data)} bytes"

        @step("VFolder.delete_files")
        def _():
            api.VFolder(vname).delete_files(["renamed.txt"], recursive=False)
            listing = api.VFolder(vname).list_files(".")
            files = listing.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return True if "renamed.txt" not in [f.get("filename") for f in files] else f"listing={listing}"

        @step("VFolder.delete")
        def _():
            api.VFolder(vname).delete()

        @step("error shape: unknown session -> BackendAPIError 404 with problem JSON")
        def _():
            try:
                api.ComputeSession("no-such-session-xyz").get_info()
            except BackendAPIError as e:
                return True if e.status == 404 and isinstance(e.data, dict) and "type" in e.data else f"{e.status} {e.data}"
            return "no error raised"

        holder["name"] = name
    return holder.get("s") and name


async def async_part(name: str) -> None:
    async with AsyncSession() as api:
        # get_or_create with the same name returns the existing session with its id,
        # which the streaming calls put in their URLs (API v5+)
        s = await api.ComputeSession.get_or_create(IMAGE, name=name)

        async def stream_execute():
            async with s.stream_execute("print('via-ws')") as ws:
                seen = []
                async for msg in ws:
                    data = json.loads(msg.data)
                    seen.append(data)
                    if data.get("status") == "finished":
                        break
            text = json.dumps(seen)
            return True if "via-ws" in text else f"frames={seen}"
        await astep("stream_execute websocket (GET /stream/session/{id}/execute)", stream_execute)

        created = s

        async def events_until_terminated():
            async with created.listen_events() as resp:
                # the response headers are in: the subscription is live, so destroy now
                destroy_task = asyncio.ensure_future(created.destroy())
                names = []
                async for ev in resp:
                    names.append(ev.event)
                    if ev.event == "session_terminated":
                        break
                await destroy_task
            return True if "session_terminated" in names else f"events={names}"
        await astep("listen_events SSE (GET /events/session) + destroy (DELETE /session/{name})", events_until_terminated)

        async def logs_of_destroyed():
            try:
                await created.get_info()
            except BackendAPIError as e:
                return True if e.status == 404 else f"status {e.status}"
            return True  # a destroyed session may stay visible as TERMINATED
        await astep("get_info after destroy answers 404 or TERMINATED", logs_of_destroyed)


PS_FIELDS = ["name", "access_key", "session_id", "group_name", "id", "image", "type", "status",
             "status_info", "status_changed", "result", "tag", "created_at", "occupied_slots"]
ACTIVE = "PENDING,SCHEDULED,PREPARING,PULLING,RUNNING,RESTARTING,TERMINATING,RESIZING,SUSPENDED,ERROR"


def cli_shapes_part(workdir: Path) -> None:
    """The GraphQL and REST shapes the 22.03 CLI sends (ps, admin session info, admin keypairs/agents/vfolders)."""
    with Session() as api:
        s = api.ComputeSession.get_or_create(IMAGE, name=f"pyc-cli-{uuid.uuid4().hex[:6]}")

        @step("ps: KeyPair.info()['is_admin'] then paginated_list(active statuses, CLI --detail fields)")
        def _():
            assert api.KeyPair(api.config.access_key).info()["is_admin"] is True
            items = list(api.ComputeSession.paginated_list(ACTIVE, None, fields=PS_FIELDS, page_size=20))
            mine = [i for i in items if i.get("session_id") == str(s.id)]
            if not mine:
                return f"session {s.id} not in {items}"
            missing = [f for f in PS_FIELDS if f not in mine[0]]
            return True if not missing else f"missing fields {missing}"

        @step("ps --dead: paginated_list('CANCELLED,TERMINATED') answers (NoItems or items)")
        def _():
            from ai.backend.client.exceptions import NoItems
            try:
                with Session() as api2:
                    list(api2.ComputeSession.paginated_list("CANCELLED,TERMINATED", None, fields=["name", "status"]))
            except NoItems:
                pass

        @step("admin session info: compute_session(id:) with containers and dependencies")
        def _():
            q = ("query($id: UUID!) { compute_session(id: $id) { name session_id id image tag created_at "
                 "terminated_at status status_info status_data occupied_slots "
                 "containers { id cluster_role cluster_idx cluster_hostname agent status status_info "
                 "status_data status_changed occupied_slots live_stat last_stat } "
                 "dependencies { name id status status_info status_changed } } }")
            r = api.Admin.query(q, {"id": str(s.id)})
            cs = r["compute_session"]
            return True if cs and cs["containers"] and cs["dependencies"] == [] else f"result={r}"

        @step("admin keypairs: KeyPair.paginated_list with keypair fields incl. user_info { full_name }")
        def _():
            fields = ["user_id", "user_info { full_name }", "access_key", "secret_key", "is_active", "is_admin",
                      "created_at", "last_used", "resource_policy", "rate_limit", "concurrency_limit",
                      "concurrency_used"]
            with Session() as api2:
                items = list(api2.KeyPair.paginated_list(is_active=True, fields=fields))
            return True if any(i["access_key"] == api.config.access_key for i in items) else f"items={items}"

        @step("admin agents: Agent.paginated_list with agent fields")
        def _():
            fields = ["id", "status", "scaling_group", "available_slots", "occupied_slots", "hardware_metadata",
                      "live_stat", "cpu_cur_pct", "mem_cur_bytes", "addr", "region", "first_contact"]
            with Session() as api2:
                items = list(api2.Agent.paginated_list("ALIVE", None, fields=fields))
            return True if items and all(k in items[0] for k in ("id", "status", "available_slots")) else f"items={items}"

        @step("admin vfolders: vfolder_list with vfolder fields")
        def _():
            api.VFolder.create(f"pycl{uuid.uuid4().hex[:6]}")
            q = ("query($limit:Int!, $offset:Int!, $group_id: UUID, $access_key: String, $filter: String, "
                 "$order: String) { vfolder_list(limit:$limit, offset:$offset, group_id:$group_id, "
                 "access_key:$access_key, filter:$filter, order:$order) { items { id host name created_at "
                 "creator group permission ownership_type usage_mode last_used max_size } total_count } }")
            r = api.Admin.query(q, {"limit": 20, "offset": 0, "group_id": None, "access_key": None,
                                    "filter": None, "order": None})
            return True if r["vfolder_list"]["total_count"] >= 1 else f"result={r}"

        @step("ComputeSession.complete (POST .../complete)")
        def _():
            r = s.complete("pri", opts={"row": 0, "col": 3, "line": "pri", "post": ""})
            return True if isinstance(r, (dict, list)) else f"result={r}"

        @step("VFolder.list_allowed_types and list_all_hosts")
        def _():
            types = api.VFolder.list_allowed_types()
            hosts = api.VFolder.list_all_hosts()
            return True if "user" in types and hosts.get("allowed") else f"types={types} hosts={hosts}"

        vname = f"pycr{uuid.uuid4().hex[:6]}"

        @step("VFolder.rename + move_file")
        def _():
            api.VFolder.create(vname)
            (workdir / "mv.txt").write_text("m")
            api.VFolder(vname).upload(["mv.txt"], basedir=workdir)
            api.VFolder(vname).mkdir("dst")
            api.VFolder(vname).move_file("mv.txt", "dst/mv.txt")
            v = api.VFolder(vname)
            v.rename(vname + "x")
            listing = api.VFolder(vname + "x").list_files("dst")
            files = listing.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return True if [f.get("filename") for f in files] == ["mv.txt"] else f"listing={listing}"

        @step("ComputeSession.destroy(forced=True)")
        def _():
            r = s.destroy(forced=True)
            return True if r is None or isinstance(r, dict) else f"result={r}"


async def async_extra_part() -> None:
    async with AsyncSession() as api:
        s = await api.ComputeSession.get_or_create(IMAGE, name=f"pyc-ax-{uuid.uuid4().hex[:6]}")

        async def ws_batch():
            async with s.stream_execute("", mode="batch", opts={"exec": "echo ws-batch"}) as ws:
                seen = []
                async for msg in ws:
                    data = json.loads(msg.data)
                    seen.append(data)
                    if data.get("status") == "finished":
                        break
            return True if "ws-batch" in json.dumps(seen) else f"frames={seen}"
        await astep("stream_execute batch mode", ws_batch)

        async def pty():
            # StreamPty.resize() in the reconstructed 22.03 sources writes to an unset attribute, so send the
            # documented frames directly: {"type": "resize"|"stdin", ...}; output frames are {"type": "out", "data": b64}
            import base64
            async with s.stream_pty() as ws:
                await ws.send_str(json.dumps({"type": "resize", "rows": 24, "cols": 80}))
                await ws.send_str(json.dumps({"type": "stdin", "chars": base64.b64encode(b"echo pty-$((40+2))\n").decode()}))
                got = ""
                async for msg in ws:
                    frame = json.loads(msg.data)
                    if frame.get("type") == "out":
                        got += base64.b64decode(frame["data"]).decode(errors="replace")
                    if "pty-42" in got:
                        break
            return True
        await astep("stream_pty websocket (resize + stdin)", pty)

        async def app_info():
            r = await s.stream_app_info()
            return True if isinstance(r, list) else f"result={r}"
        await astep("stream_app_info (GET /stream/session/{id}/apps)", app_info)
        await s.destroy()

        async def batch_task_logs():
            try:
                await api.VFolder.create(".logs")  # upstream keeps batch task logs in the user's .logs vfolder
            except BackendAPIError as e:
                if e.status != 400:  # already exists
                    raise
            b = await api.ComputeSession.get_or_create(
                IMAGE, name=f"pyc-b-{uuid.uuid4().hex[:6]}", type_="batch",
                startup_command="python -c \"print('batch-out')\"", enqueue_only=True)
            async with b.listen_events() as resp:
                async for ev in resp:
                    if ev.event in ("session_success", "session_failure", "session_terminated"):
                        break
            chunks = []
            async for chunk in api.ComputeSession.get_task_logs(str(b.id)):
                chunks.append(chunk)
            text = b"".join(chunks).decode()
            return True if "batch-out" in text else f"logs={text!r}"
        await astep("batch session + get_task_logs (GET /session/_/logs?taskId=)", batch_task_logs)

    from ai.backend.client.config import APIConfig
    # aiohttp's default cookie jar ignores cookies from IP-address hosts, so use a host name for cookie mode
    endpoint = os.environ["BACKEND_ENDPOINT"].replace("127.0.0.1", "localhost")
    email = os.environ.get("COMPAT_LOGIN_EMAIL", "admin@lablup.com")
    password = os.environ.get("COMPAT_LOGIN_PASSWORD", "wJalrXUt")
    cfg = APIConfig(endpoint=endpoint, endpoint_type="session")
    async with AsyncSession(config=cfg) as api:
        async def login_then_call():
            r = await api.Auth.login(email, password)
            if not r.get("authenticated"):
                return f"login={r}"
            # the CLI stores the cookie jar; within one aiohttp session the cookie is reused
            hosts = await api.VFolder.list_hosts()
            await api.Auth.logout()
            return True if hosts.get("allowed") else f"hosts={hosts}"
        await astep("Auth.login in session mode, then an API call through /func/, then logout", login_then_call)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        name = None
        try:
            name = sync_part(workdir)
        except Exception as e:  # noqa: BLE001
            record("sync scenario", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
        if name:
            asyncio.run(async_part(name))
        try:
            cli_shapes_part(workdir)
        except Exception as e:  # noqa: BLE001
            record("CLI-shape scenario", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
        asyncio.run(async_extra_part())
    print(f"\n{len(results) - len(failures)} passed, {len(failures)} failed")
    return len(failures)


if __name__ == "__main__":
    sys.exit(main())
