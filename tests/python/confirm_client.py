"""Calls one tool through the MCP Python SDK's client speaking 2026-07-28, answering the
server's elicitation requests as told, and prints what happened as one JSON object:
{"asked": [messages], "isError": bool, "text": "..."}.

    python confirm_client.py URL TOOL ARGUMENTS_JSON accept|decline
"""

import asyncio
import json
import sys

from mcp import Client, types


async def main(url: str, tool: str, arguments: dict, answer: str) -> None:
    asked: list[str] = []

    async def elicit(context, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    async with Client(url, mode="2026-07-28", elicitation_callback=elicit) as client:
        result = await client.call_tool(tool, arguments)
    text = "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))
    print(json.dumps({"asked": asked, "isError": bool(result.is_error), "text": text}))


if __name__ == "__main__":
    url, tool, arguments, answer = sys.argv[1:5]
    asyncio.run(main(url, tool, json.loads(arguments), answer))
