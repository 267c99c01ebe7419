"""Ontology editing over HTTP: the edit round trip, validation, versions, export and import."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import Api, problem


def _new_id(prefix: str = "cause") -> str:
    return f"{prefix}.api_{uuid.uuid4().hex[:10]}"


def _cause(concept_id: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": concept_id,
        "kind": "Cause",
        "label": {"zh": zh, "en": en},
        "definition": {"zh": f"{zh}的定义", "en": f"definition of {en}"},
        "affects": ["domain.home_net"],
        "why": "api test",
        **extra,
    }


def _search(api: Api, q: str, **params: Any) -> list[str]:
    answer = api.get("/v1/concepts", params={"q": q, "limit": 500, **params})
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_edit_round_trip(api: Api) -> None:
    concept_id = _new_id()
    zh = f"光猫过热{concept_id[-4:]}"
    body = _cause(concept_id, zh, f"router overheating {concept_id[-4:]}",
                  synonyms={"zh": [f"猫发烫{concept_id[-4:]}"], "en": []},
                  blocks=["need.stable_evening"])
    created = api.post("/v1/concepts", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/concepts/{concept_id}"
    change = created.json()
    assert change["concept"]["id"] == concept_id
    version = change["version"]
    assert version["who"] == "test-editor" and version["why"] == "api test"
    assert concept_id in version["diff"]["added"]
    # the files on disk are the source of truth: the concept is written there
    assert concept_id in (api.ontology_dir / "causes.yaml").read_text(encoding="utf-8")

    read = api.get(f"/v1/concepts/{concept_id}")
    assert read.status_code == 200
    relations = {(r["type"], r["direction"], r["target"]) for r in read.json()["relations"]}
    assert ("BLOCKS", "out", "need.stable_evening") in relations
    need = api.get("/v1/concepts/need.stable_evening").json()
    assert ("BLOCKS", "in", concept_id) in {
        (r["type"], r["direction"], r["source"]) for r in need["relations"]
    }
    # search by the zh synonym, in full width and in traditional characters
    suffix = concept_id[-4:]
    full_width = suffix.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert _search(api, f"猫发烫{suffix}") == [concept_id]
    assert _search(api, f"貓發燙{full_width}") == [concept_id]
    assert _search(api, f"光猫过热{suffix}", kind="Cause")[0] == concept_id
    assert _search(api, f"光猫过热{suffix}", kind="Need") == []

    deprecated = api.post(
        f"/v1/concepts/{concept_id}/deprecate",
        json={"replaced_by": "cause.evening_congestion", "why": "duplicate"},
    )
    assert deprecated.status_code == 200, deprecated.text
    after = deprecated.json()
    assert after["concept"]["deprecated"] is True
    assert after["concept"]["replaced_by"] == "cause.evening_congestion"
    assert after["version"]["operation"] == "deprecate"
    # a deprecated concept's label finds its replacement; it is listed only on request
    assert _search(api, f"猫发烫{suffix}") == ["cause.evening_congestion"]
    assert concept_id in _search(api, f"猫发烫{suffix}", include_deprecated="true")

    history = api.get(f"/v1/concepts/{concept_id}/history").json()
    operations = [item["operation"] for item in history["items"]]
    assert operations[:2] == ["deprecate", "load"] and history["total"] == 2
    versions = api.get("/v1/ontology/versions", params={"limit": 1}).json()
    assert versions["items"][0]["version"] == after["version"]["version"]


def test_domain_validation_refuses_with_every_problem(api: Api) -> None:
    concept_id = _new_id()
    body = _cause(concept_id, "坏原因", "bad cause", affects=["domain.nope"], broader=["need.nope"])
    before = (api.ontology_dir / "causes.yaml").read_bytes()
    refused = api.post("/v1/concepts", json=body)
    found = problem(refused, 422, "ontology-invalid")
    codes = {p["code"] for p in found["problems"]}  # type: ignore[union-attr]
    assert codes == {"dangling-reference"} and len(found["problems"]) == 2  # type: ignore[arg-type]
    assert "domain.nope" in str(found["detail"]) or "need.nope" in str(found["detail"])
    assert (api.ontology_dir / "causes.yaml").read_bytes() == before
    problem(api.get(f"/v1/concepts/{concept_id}"), 404, "concept-not-found")
    missing_label = api.post("/v1/concepts", json=_cause(_new_id(), "", "only english"))
    assert {p["code"] for p in problem(missing_label, 422, "ontology-invalid")["problems"]} == {
        "missing-label"
    }


def test_body_validation_names_the_field(api: Api) -> None:
    body = _cause(_new_id(), "缺理由", "no why")
    del body["why"]
    found = problem(api.post("/v1/concepts", json=body), 422, "invalid-request")
    assert found["errors"] == [{"field": "body.why", "message": "Field required"}]
    bad_kind = problem(
        api.post("/v1/concepts", json={**_cause(_new_id(), "x", "x"), "kind": "Thing"}),
        422,
        "invalid-request",
    )
    assert bad_kind["errors"][0]["field"] == "body.kind"  # type: ignore[index]
    not_json = api.client.post(
        "/v1/concepts",
        content=b"{not json",
        headers={**api.headers("editor"), "content-type": "application/json"},
    )
    assert problem(not_json, 422, "invalid-request")["errors"][0]["field"].startswith("body")  # type: ignore[index]
    bad_rule = _cause(_new_id(), "规则", "rule", eligibility={"bogus": 1})
    bad_rule["kind"], bad_rule["id"] = "Strategy", _new_id("strategy")
    del bad_rule["affects"]
    found = problem(api.post("/v1/concepts", json=bad_rule), 422, "invalid-request")
    assert str(found["detail"]).startswith("body.eligibility")


def test_conflicts_and_missing(api: Api) -> None:
    problem(api.post("/v1/concepts", json=_cause("cause.evening_congestion", "x", "y")), 409,
            "concept-exists")
    problem(api.get("/v1/concepts/cause.nope"), 404, "concept-not-found")
    problem(api.patch("/v1/concepts/cause.nope", json={"why": "x"}), 404, "concept-not-found")
    bad_target = api.post("/v1/concepts/cause.wifi_dead_zone/deprecate",
                          json={"replaced_by": "cause.nope", "why": "x"})
    assert problem(bad_target, 422, "invalid-request")["errors"][0]["field"] == "body.replaced_by"  # type: ignore[index]
    wrong_kind = api.post("/v1/concepts/cause.wifi_dead_zone/merge",
                          json={"into": "need.stable_evening", "why": "x"})
    problem(wrong_kind, 409, "ontology-change")
    problem(api.get("/v1/ontology/versions/99.0.0"), 404, "version-not-found")


def test_update_merges_languages_and_merge_folds_a_concept(api: Api) -> None:
    keep, gone = _new_id(), _new_id()
    for concept_id, zh in ((keep, "保留原因"), (gone, "合并原因")):
        body = _cause(concept_id, f"{zh}{concept_id[-4:]}", f"{concept_id} en",
                      synonyms={"zh": [f"{zh}别名{concept_id[-4:]}"]})
        assert api.post("/v1/concepts", json=body).status_code == 201
    patched = api.patch(f"/v1/concepts/{keep}",
                        json={"synonyms": {"en": ["kept synonym"]}, "why": "add en"})
    assert patched.status_code == 200, patched.text
    synonyms = patched.json()["concept"]["synonyms"]
    assert synonyms["en"] == ["kept synonym"] and len(synonyms["zh"]) == 1
    assert patched.json()["version"]["diff"]["changed"] == {keep: ["synonyms"]}
    same = api.patch(f"/v1/concepts/{keep}", json={"synonyms": {"en": ["kept synonym"]},
                                                     "why": "again"})
    assert same.status_code == 200 and same.json()["version"] is None
    fixed = problem(api.patch(f"/v1/concepts/{keep}", json={"id": "cause.x", "why": "x"}), 422,
                    "invalid-request")
    assert fixed["errors"][0]["field"] == "body.id"  # type: ignore[index]

    merged = api.post(f"/v1/concepts/{gone}/merge", json={"into": keep, "why": "same thing"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["concept"] is None
    assert merged.json()["version"]["operation"] == "merge"
    problem(api.get(f"/v1/concepts/{gone}"), 404, "concept-not-found")
    survivor = api.get(f"/v1/concepts/{keep}").json()
    assert f"合并原因{gone[-4:]}" in survivor["synonyms"]["zh"]
    assert f"id: {gone}\n" not in (api.ontology_dir / "causes.yaml").read_text(encoding="utf-8")
    history = api.get(f"/v1/concepts/{gone}/history").json()
    assert history["items"][0]["operation"] == "merge"


def test_export_and_turtle_import(api: Api) -> None:
    for form, media in (("json", "application/json"), ("yaml", "application/yaml"),
                        ("turtle", "text/turtle")):
        exported = api.get("/v1/ontology", params={"format": form})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith(media)
        assert "attachment" in exported.headers["content-disposition"]
    data = api.get("/v1/ontology").json()
    assert {c["id"] for c in data["concepts"]} >= {"cause.wifi_dead_zone", "need.stable_evening"}
    problem(api.get("/v1/ontology", params={"format": "xml"}), 422, "invalid-request")

    turtle = api.get("/v1/ontology", params={"format": "turtle"}).text
    label = f"无线死角{uuid.uuid4().hex[:6]}"
    edited = turtle.replace('"WiFi死角"@zh', f'"{label}"@zh')
    assert edited != turtle
    turtle_headers = {**api.headers("editor"), "content-type": "text/turtle"}
    imported = api.client.put("/v1/ontology", params={"why": "edited in Protégé"},
                              content=edited.encode(), headers=turtle_headers)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["changed"] is True
    assert report["record"]["diff"]["changed"] == {"cause.wifi_dead_zone": ["label"]}
    assert api.get("/v1/concepts/cause.wifi_dead_zone").json()["label"]["zh"] == label
    assert label in (api.ontology_dir / "core.yaml").read_text(encoding="utf-8")
    again = api.client.put("/v1/ontology", params={"why": "same again"},
                           content=edited.encode(), headers=turtle_headers)
    assert again.status_code == 200 and again.json()["changed"] is False

    broken = api.client.put("/v1/ontology", params={"why": "x"}, content=b"@prefix nope",
                            headers=turtle_headers)
    codes = {p["code"] for p in problem(broken, 422, "ontology-invalid")["problems"]}  # type: ignore[union-attr]
    assert "turtle-syntax" in codes
    wrong_type = api.client.put("/v1/ontology", params={"why": "x"}, content=b"{}",
                                headers={**api.headers("editor"), "content-type": "text/plain"})
    problem(wrong_type, 415, "unsupported-media-type")
    no_why = api.client.put("/v1/ontology", content=edited.encode(), headers=turtle_headers)
    assert problem(no_why, 422, "invalid-request")["errors"][0]["field"] == "query.why"  # type: ignore[index]


def test_versions_and_paging(api: Api) -> None:
    reloaded = api.post("/v1/ontology/versions", json={"why": "nothing changed"})
    assert reloaded.status_code == 200 and reloaded.json()["changed"] is False
    first = api.get("/v1/ontology/versions", params={"limit": 1, "offset": 0}).json()
    second = api.get("/v1/ontology/versions", params={"limit": 1, "offset": 1}).json()
    assert first["limit"] == 1 and first["offset"] == 0 and first["total"] >= 1
    assert set(first) == {"items", "total", "limit", "offset"}
    if first["total"] > 1:
        assert first["items"][0]["version"] != second["items"][0]["version"]
    newest = first["items"][0]
    one = api.get(f"/v1/ontology/versions/{newest['version']}").json()
    assert one["content_hash"] == newest["content_hash"]
    everything = api.get("/v1/concepts", params={"limit": 500}).json()
    page = api.get("/v1/concepts", params={"limit": 3, "offset": 2}).json()
    assert page["total"] == everything["total"] and len(page["items"]) == 3
    assert [c["id"] for c in page["items"]] == [c["id"] for c in everything["items"][2:5]]
    assert api.get("/v1/concepts", params={"offset": 10_000}).json()["items"] == []
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}):
        found = problem(api.get("/v1/concepts", params=bad), 422, "invalid-request")
        assert found["errors"][0]["field"] == f"query.{next(iter(bad))}"  # type: ignore[index]
