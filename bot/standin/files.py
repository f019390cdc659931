"""Files in the Slack stand-in: uploads as files_upload_v2 makes them (an upload URL, the bytes
POSTed there, then the share), a file a person shares in a DM, and private files served to the bot."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from aiohttp import web

from bot.standin.records import JsonDict, Message, StandInState, json_arg


class FileMethods:
    """Mixed into SlackStandIn, which provides these."""

    state: StandInState
    token: str
    url: str
    _ids: itertools.count[int]
    _channel: Callable[[str | None], str | None]
    _next_ts: Callable[[], str]

    def user_file(self, name: str, content: bytes) -> JsonDict:
        """A file a person shared (in a DM to the bot): what a `message` event's `files` lists."""
        file_id = f"F{next(self._ids):08d}"
        self.state.uploads[file_id] = {"id": file_id, "name": name, "length": len(content), "content": content}
        return {"id": file_id, "name": name, "size": len(content), "mimetype": "application/octet-stream",
                "url_private_download": f"{self.url}/files/{file_id}"}  # fmt: skip

    # ---- files_upload_v2: an upload URL, the bytes POSTed there, then the share --------------
    def _upload_url(self, args: JsonDict) -> JsonDict:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.state.uploads[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"])}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.state.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="no such upload")
        upload["content"] = await request.read()
        return web.Response(text=f"OK - {len(upload['content'])}")

    def _complete_upload(self, args: JsonDict) -> JsonDict:
        shared = []
        for item in json_arg(args.get("files")) or []:
            upload = self.state.uploads.get(item.get("id", ""))
            if upload is None or "content" not in upload:
                return {"ok": False, "error": "file_not_found"}
            upload["title"] = item.get("title") or upload["name"]
            shared.append(
                {k: v for k, v in upload.items() if k != "content"}
                | {"url_private": f"{self.url}/files/{upload['id']}"}
            )
        channel = self._channel(args.get("channel_id"))
        if channel is not None:
            message = Message(channel, self._next_ts(), args.get("initial_comment", ""), [], args.get("thread_ts"))
            message.files = shared
            self.state.messages[channel].append(message)
        return {"ok": True, "files": shared}

    async def _file(self, request: web.Request) -> web.Response:
        """A file's bytes. Slack serves private files to the bot token only: a wrong token is refused and
        a fetch with the right one is recorded (`fetched_by_bot`); the sandbox page's images come
        without one."""
        upload = self.state.uploads.get(request.match_info["file_id"])
        authorization = request.headers.get("Authorization")
        if authorization is not None and authorization != f"Bearer {self.token}":
            return web.Response(status=403, text="not authorized")
        if upload is None or "content" not in upload:
            return web.Response(status=404, text="no such file")
        upload["fetched_by_bot"] = upload.get("fetched_by_bot", False) or authorization is not None
        return web.Response(
            body=upload["content"],
            content_type="image/png" if upload["name"].endswith(".png") else "application/octet-stream",
        )
