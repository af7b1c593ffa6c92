#!/usr/bin/env python3
"""validate_sarif.py SCHEMA SARIF SCENARIOS_C: checks a SARIF log of sarif_scenario.

1. valid against the official SARIF 2.1.0 JSON schema, with python3-jsonschema (the draft the
   schema declares: draft-07 for OASIS's copy, 2020-12 for the one in sarif-multitool 5.7.0);
2. the content: version 2.1.0, one run, tool.driver.rules = the whole rule catalog (each with
   its default level), and the results of ScenarioSarifMix exactly: ruleId, level, message.text
   (the whole report), locations[0].physicalLocation.artifactLocation.uri a file URI naming
   scenarios.c, region.startLine the "at:<Rule>" line of scenarios.c, relatedLocations the
   "other:<Rule>" line where the rule has an other party (VALIDATE_REPEAT=<n> in the environment:
   those results n times over, a log merged from n processes' logs).
Exit status 0 when everything holds; 1 with every problem listed otherwise.
"""
import json
import os
import re
import sys
import urllib.parse

# The catalog (../shared/spec/verifier-rules.md): ID -> default level.
CATALOG = {
    "LockNotInitialized": "error", "LockReinitialized": "error", "LockFreedWhileHeld": "error",
    "LockUsedAfterFree": "error", "AcquireAboveDispatch": "error", "DprAcquireBelowDispatch": "error",
    "ReleaseNotAtDispatch": "error", "IrqlInvalidRaise": "error", "IrqlInvalidLower": "error",
    "RecursiveAcquire": "error", "ReleaseNotHeld": "error", "ReleaseByNonOwner": "error",
    "ReleaseVariantMismatch": "error", "QueuedAndPlainMixed": "error", "QueueHandleReused": "error",
    "WrongOldIrql": "error", "IrqlDroppedWhileHoldingLock": "error", "LockHeldAtCallbackReturn": "error",
    "ThreadExitHoldingLock": "error", "LockOrderInversion": "error", "Deadlock": "error",
    "BlockingAtDispatch": "error", "NdisCallWhileHoldingLock": "warning", "LockHeldTooLong": "warning",
    "IsrTooLong": "warning", "DpcTooLong": "warning", "SyncInterruptMisuse": "error",
    "InterruptRegistrationMisuse": "error", "ReleaseVariantEquivalent": "note", "NullLockPointer": "error",
    "LockMisaligned": "error",
    "AssertionFailed": "error", "ListCorrupted": "error", "PagedCodeAtRaisedIrql": "error",
    "DispatchFlagMismatch": "error",
    "RwLockWriteWhileRead": "error", "RwLockRecursion": "error", "RwLockStateMismatch": "error",
    "RwLockStateReused": "error", "RwLockDispatchFlagWrongIrql": "error",
    "BugCheck": "error",
    "LockClassIrqlInconsistent": "error",
    "TimerFreedWhileActive": "error", "PeriodicTimerNotCancelled": "error", "TimerUsedAfterFree": "error",
    "MutexNotOwned": "error", "ResourceOutsideCriticalRegion": "error", "FastMutexRecursion": "error",
    "WorkItemMisuse": "error", "SemaphoreMisuse": "error", "IrqlTooHighForCall": "error",
    "Livelock": "error", "ExploreUncontrolled": "error",  # the exploration's (docs/explore.md)
    "DataRace": "error",
}
TERMINAL = {"RecursiveAcquire", "Deadlock", "NullLockPointer", "AssertionFailed", "ListCorrupted", "RwLockWriteWhileRead", "RwLockRecursion", "BugCheck", "FastMutexRecursion",
            "Livelock", "ExploreUncontrolled", "DataRace"}

# ScenarioSarifMix's findings, in order: (ruleId, level, has an other party).
EXPECTED = [
    ("ReleaseVariantMismatch", "error", True),
    ("LockNotInitialized", "error", False),
    ("LockOrderInversion", "error", True),
    ("NdisCallWhileHoldingLock", "warning", True),
    ("ReleaseVariantEquivalent", "note", True),
]


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path, sarif_path, scenarios_c = sys.argv[1:]
    try:
        import jsonschema
    except ImportError:
        print("validate_sarif: FAILED: the Python module jsonschema is missing for %s "
              "(Debian: apt-get install python3-jsonschema)" % sys.executable, file=sys.stderr)
        return 1
    if not os.path.isfile(schema_path):
        print("validate_sarif: FAILED: no SARIF schema at %s (fetch_sarif_schema.sh puts it there; "
              "it needs npm)" % schema_path, file=sys.stderr)
        return 1
    if not os.path.isfile(sarif_path):
        print("validate_sarif: FAILED: no SARIF log at %s" % sarif_path, file=sys.stderr)
        return 1

    problems = []
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(sarif_path, encoding="utf-8") as f:
        try:
            log = json.load(f)
        except json.JSONDecodeError as e:
            print("validate_sarif: FAILED: %s is not JSON: %s" % (sarif_path, e), file=sys.stderr)
            return 1

    # 1. The schema. OASIS's sarif-schema-2.1.0.json declares draft-07; the copy in
    # sarif-multitool 5.7.0 declares draft 2020-12. Either way the validator is the one the
    # schema names (jsonschema >= 4 has both); an unknown draft is an error, not a fallback.
    declared = schema.get("$schema", "")
    if "draft-07" not in declared and "2020-12" not in declared:
        problems.append("the schema declares %r, neither draft-07 nor 2020-12" % declared)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator_class.check_schema(schema)
    for error in sorted(validator_class(schema).iter_errors(log), key=lambda e: list(e.path)):
        problems.append("schema: at /%s: %s" % ("/".join(str(p) for p in error.path), error.message))

    # 2. The content.
    marks = {}
    with open(scenarios_c, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            for tag in re.findall(r"/\* ((?:at|other):\w+) \*/", line):
                marks[tag] = number

    def check_location(where, location, line):
        physical = location.get("physicalLocation", {})
        uri = physical.get("artifactLocation", {}).get("uri", "")
        if not uri.startswith("file:///"):
            problems.append("%s: uri %r is not an absolute file URI" % (where, uri))
        else:
            path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
            if not path.endswith("/tests/verifier_reports/scenarios.c") or not os.path.isfile(path):
                problems.append("%s: uri %r does not name scenarios.c on this machine" % (where, uri))
        start = physical.get("region", {}).get("startLine")
        if start != line:
            problems.append("%s: region.startLine %r, expected %r" % (where, start, line))

    if log.get("version") != "2.1.0":
        problems.append("version %r, expected 2.1.0" % log.get("version"))
    runs = log.get("runs", [])
    if len(runs) != 1:
        problems.append("%d runs, expected 1" % len(runs))
        runs = runs[:1] or [{}]
    run = runs[0]
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    ids = [r.get("id") for r in rules]
    if sorted(ids) != sorted(CATALOG) or len(ids) != len(set(ids)):
        problems.append("tool.driver.rules %r is not the catalog %r" % (ids, sorted(CATALOG)))
    for r in rules:
        level = r.get("defaultConfiguration", {}).get("level")
        if r.get("id") in CATALOG and level != CATALOG[r["id"]]:
            problems.append("rule %s: default level %r, expected %r" % (r["id"], level, CATALOG[r["id"]]))
        terminal = r.get("properties", {}).get("terminal")
        if r.get("id") in CATALOG and terminal != (r["id"] in TERMINAL):
            problems.append("rule %s: properties.terminal %r" % (r["id"], terminal))

    results = run.get("results", [])
    got = [(r.get("ruleId"), r.get("level"), bool(r.get("relatedLocations"))) for r in results]
    # VALIDATE_REPEAT=<n>: a log merged from n processes' logs, each with the mix's results.
    expected = EXPECTED * int(os.environ.get("VALIDATE_REPEAT", "1"))
    if got != expected:
        problems.append("results %r, expected %r" % (got, expected))
    for index, result in enumerate(results):
        rule = result.get("ruleId")
        where = "results[%d] (%s)" % (index, rule)
        text = result.get("message", {}).get("text", "")
        if not text.startswith("ndislock verifier: %s: %s" % (result.get("level"), rule)):
            problems.append("%s: message.text does not start with the report's first line: %r" % (where, text[:80]))
        if rule in CATALOG and result.get("level") != CATALOG[rule]:
            problems.append("%s: level %r, expected %r" % (where, result.get("level"), CATALOG[rule]))
        if result.get("ruleIndex") is not None and ids[result["ruleIndex"]] != rule:
            problems.append("%s: ruleIndex %r names %r" % (where, result["ruleIndex"], ids[result["ruleIndex"]]))
        locations = result.get("locations", [])
        if not locations:
            problems.append("%s: no locations" % where)
        else:
            check_location(where + ".locations[0]", locations[0], marks.get("at:" + rule))
        related = result.get("relatedLocations", [])
        if ("other:" + rule) in marks:
            if not related:
                problems.append("%s: no relatedLocations for the other party" % where)
            else:
                check_location(where + ".relatedLocations[0]", related[0], marks["other:" + rule])
        elif related:
            problems.append("%s: relatedLocations where there is no other party" % where)

    # 3. Suppressed findings (VALIDATE_SUPPRESSED=<ruleId>): that result carries a suppression of
    # kind external, every other result none.
    suppressed_rule = os.environ.get("VALIDATE_SUPPRESSED", "")
    for index, result in enumerate(results):
        kinds = [s.get("kind") for s in result.get("suppressions", [])]
        want = ["external"] if result.get("ruleId") == suppressed_rule else []
        if kinds != want:
            problems.append("results[%d] (%s): suppressions %r, expected %r" % (index, result.get("ruleId"), kinds, want))

    if problems:
        print("validate_sarif: FAILED: %s\n  %s" % (sarif_path, "\n  ".join(problems)), file=sys.stderr)
        return 1
    print("validate_sarif: %s is valid SARIF 2.1.0 (%s) with the expected %d results and %d rules"
          % (sarif_path, validator_class.__name__,
             len(results), len(rules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
