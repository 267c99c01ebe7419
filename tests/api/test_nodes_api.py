"""Graph drill-down over HTTP: one node, paged neighbourhoods, unknown labels and missing nodes."""

from __future__ import annotations

from tests.api.conftest import Api, problem

CENTRE = "/v1/nodes/Cause/cause.evening_congestion"


def test_node(api: Api) -> None:
    found = api.get(CENTRE)
    assert found.status_code == 200
    node = found.json()
    assert (node["label"], node["key"]) == ("Cause", "cause.evening_congestion")
    assert node["props"]["label_en"] == "evening congestion"
    tag_bin = api.get("/v1/nodes/TagBin/tag.evening_latency_ms=high")
    assert tag_bin.status_code == 200 and tag_bin.json()["props"]["bin"] == "high"


def test_unknown_label_and_missing_node(api: Api) -> None:
    unknown = problem(api.get("/v1/nodes/Gadget/x"), 422, "unknown-label")
    assert "'Gadget'" in str(unknown["detail"])
    missing = problem(api.get("/v1/nodes/Cause/cause.nope"), 404, "node-not-found")
    assert "cause.nope" in str(missing["detail"])
    problem(api.get("/v1/nodes/Cause/cause.nope/neighbourhood"), 404, "node-not-found")
    problem(api.get("/v1/nodes/Gadget/x/neighbourhood"), 422, "unknown-label")
    bad_type = api.get(f"{CENTRE}/neighbourhood", params={"rel_types": "LIKES"})
    assert "'LIKES'" in str(problem(bad_type, 422, "unknown-relationship-type")["detail"])
    bad_filter = api.get(f"{CENTRE}/neighbourhood", params={"labels": "Gadget"})
    problem(bad_filter, 422, "unknown-label")
    too_far = api.get(f"{CENTRE}/neighbourhood", params={"hops": 9})
    assert problem(too_far, 422, "invalid-request")["errors"][0]["field"] == "query.hops"  # type: ignore[index]


def test_neighbourhood_pages(api: Api) -> None:
    whole = api.get(f"{CENTRE}/neighbourhood", params={"hops": 2, "limit": 500}).json()
    assert whole["centre"]["key"] == "cause.evening_congestion"
    total = whole["total"]
    assert total == len(whole["items"]) >= 5 and whole["truncated"] is False
    keys = [(n["label"], n["key"]) for n in whole["items"]]
    assert keys == sorted(keys)
    seen: list[tuple[str, str]] = []
    for offset in range(0, total, 2):
        page = api.get(f"{CENTRE}/neighbourhood",
                       params={"hops": 2, "limit": 2, "offset": offset}).json()
        assert (page["limit"], page["offset"], page["total"]) == (2, offset, total)
        on_page = {(n["label"], n["key"]) for n in page["items"]}
        for rel in page["relationships"]:
            ends = {(rel["start"]["label"], rel["start"]["key"]),
                    (rel["end"]["label"], rel["end"]["key"])}
            assert ends & on_page
        seen += [(n["label"], n["key"]) for n in page["items"]]
    assert seen == keys


def test_neighbourhood_filters(api: Api) -> None:
    out = api.get(f"{CENTRE}/neighbourhood",
                  params={"rel_types": "BLOCKS,AFFECTS", "direction": "out"}).json()
    assert {n["label"] for n in out["items"]} == {"Need", "Domain"}
    assert {r["type"] for r in out["relationships"]} == {"BLOCKS", "AFFECTS"}
    repeated = api.get(f"{CENTRE}/neighbourhood",
                       params=[("rel_types", "BLOCKS"), ("rel_types", "AFFECTS"),
                               ("direction", "out")]).json()
    assert repeated["items"] == out["items"]
    needs = api.get(f"{CENTRE}/neighbourhood", params={"labels": "Need"}).json()
    assert {n["label"] for n in needs["items"]} == {"Need"}
