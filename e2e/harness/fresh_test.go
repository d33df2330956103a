package harness

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tree writes a minimal source tree of the exporter and a binary, all
// dated at, and returns the root and the binary's path.
func tree(t *testing.T, at time.Time) (root, bin string) {
	t.Helper()
	root = t.TempDir()
	for _, name := range []string{
		"go.mod", "go.sum", "builder-config.yaml", "exporter.go", "exporter_test.go",
		"internal/render/render.go", "internal/render/render_test.go",
		"cmd/slackemu/main.go", "e2e/harness/harness.go", "bin/otelcol-slack",
	} {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		touch(t, path, at)
	}
	return root, filepath.Join(root, "bin", "otelcol-slack")
}

func touch(t *testing.T, path string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestACollectorOlderThanTheExportersSourcesIsRefused(t *testing.T) {
	built := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, changed := range []string{"go.mod", "go.sum", "builder-config.yaml", "exporter.go", "internal/render/render.go"} {
		t.Run(changed, func(t *testing.T) {
			root, bin := tree(t, built)
			touch(t, filepath.Join(root, filepath.FromSlash(changed)), built.Add(time.Minute))
			err := olderThanSources(bin, root)
			if err == nil {
				t.Fatalf("a collector built before %s changed was accepted", changed)
			}
			t.Log(err)
		})
	}
}

func TestACollectorNewerThanTheExportersSourcesIsAccepted(t *testing.T) {
	built := time.Now().Add(-time.Hour).Truncate(time.Second)
	root, bin := tree(t, built)
	if err := olderThanSources(bin, root); err != nil {
		t.Fatalf("built at the same time as its sources: %v", err)
	}
	// Tests, the emulator's command and the e2e tests are not in the collector.
	for _, name := range []string{"exporter_test.go", "internal/render/render_test.go", "cmd/slackemu/main.go", "e2e/harness/harness.go"} {
		touch(t, filepath.Join(root, filepath.FromSlash(name)), built.Add(time.Minute))
	}
	if err := olderThanSources(bin, root); err != nil {
		t.Fatalf("only files outside the collector changed: %v", err)
	}
	touch(t, filepath.Join(root, "exporter.go"), built.Add(time.Minute))
	touch(t, bin, built.Add(2*time.Minute))
	if err := olderThanSources(bin, root); err != nil {
		t.Fatalf("rebuilt after the change: %v", err)
	}
}

func TestNotTheExportersSourceTree(t *testing.T) {
	root, bin := tree(t, time.Now())
	if err := os.Remove(filepath.Join(root, "builder-config.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := olderThanSources(bin, root); err == nil {
		t.Fatal("a tree without builder-config.yaml is not the exporter's: nothing to compare the binary with")
	}
}
