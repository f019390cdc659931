"""People in the Slack stand-in: users as users.info and users.list give them, found by e-mail,
leaving the workspace, and user groups with their members (usergroups.users.list)."""

from __future__ import annotations

from bot.standin.records import TEAM_ID, JsonDict, StandInState


class UserMethods:
    """Mixed into SlackStandIn, which provides its state."""

    state: StandInState

    def add_user(
        self, user_id: str, *, name: str, email: str | None = None, tz: str = "UTC", is_admin: bool = False
    ) -> None:
        self.state.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "tz": tz,
            "is_admin": is_admin,
            "is_owner": False,
            "deleted": False,
            "is_bot": False,
            "profile": {"real_name": name, "display_name": name.split()[0], "email": email},
        }

    def deactivate(self, user_id: str) -> None:
        """The user leaves the workspace: DMs to them fail with account_inactive, as in Slack."""
        self.state.users[user_id]["deleted"] = True

    def _users_info(self, args: JsonDict) -> JsonDict:
        user = self.state.users.get(args.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _users_list(self, args: JsonDict) -> JsonDict:
        """Every user, a page at a time, in id order, as Slack pages it (an opaque next_cursor)."""
        limit = min(int(args.get("limit") or 0) or 1000, 1000)
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("dXNlcjo=")) if cursor.startswith("dXNlcjo=") else 0
        users = [self.state.users[k] for k in sorted(self.state.users)]
        page, rest = users[start : start + limit], users[start + limit :]
        next_cursor = f"dXNlcjo={start + limit}" if rest else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def add_usergroup(self, subteam_id: str, members: list[str]) -> None:
        self.state.usergroups[subteam_id] = list(members)

    def _usergroups_users_list(self, args: JsonDict) -> JsonDict:
        members = self.state.usergroups.get(str(args.get("usergroup", "")))
        return {"ok": True, "users": members} if members is not None else {"ok": False, "error": "no_such_subteam"}

    def _lookup_by_email(self, args: JsonDict) -> JsonDict:
        email = str(args.get("email", "")).lower()
        for user in self.state.users.values():
            if (user["profile"].get("email") or "").lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}
