"""Liveness with database status, for load balancers and uptime checks."""

from litestar import Response, get

from crm import db


@get("/healthz", opt={"public": True}, tags=["health"], summary="Service and database status")
async def healthz() -> Response[dict]:
    ok = await db.ping()
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return Response(body, status_code=200 if ok else 503)
