package api

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes keeps the hand-written OpenAPI document and the
// route table the same: every route is documented, with its scope, and every
// documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components map[string]map[string]any            `json:"components"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]map[string]any{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}
	a := newAPI(Deps{})
	served := map[string]bool{}
	for _, rt := range a.routes {
		key := rt.method + " " + rt.path
		served[key] = true
		op, ok := documented[key]
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		if rt.gate == gatePublic {
			if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s is public but the document asks for credentials", key)
			}
		} else if op["x-govmail-scope"] != rt.scope {
			t.Errorf("%s: document says scope %v, route needs %q", key, op["x-govmail-scope"], rt.scope)
		}
		if _, ok := op["responses"].(map[string]any); !ok {
			t.Errorf("%s has no responses", key)
		}
	}
	var extra []string
	for key := range documented {
		if !served[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		t.Errorf("openapi.json documents %s, which is not served", k)
	}

	// Every $ref points at something.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
				if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
					t.Errorf("dangling $ref %s", ref)
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var raw any
	json.Unmarshal(openapiJSON, &raw)
	walk(raw)
}

func TestOpenAPIServedPublicly(t *testing.T) {
	e := newEnv(t)
	r := e.expect(e.do(as{}, "GET", "/api/v1/openapi.json", nil), 200)
	if !strings.HasPrefix(r.Hdr.Get("Content-Type"), "application/json") || r.json(t)["openapi"] == nil {
		t.Errorf("%v", r.Hdr)
	}
}
