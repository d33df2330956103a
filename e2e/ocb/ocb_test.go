// Package ocb checks the README's "Add it to your collector" section the way a
// user would follow it: ocb builds a collector from the manifest in the README,
// outside this repository, naming the exporter by its release version; the
// version is resolved through a module proxy on disk that the test fills with
// this tree as that version. The collector then delivers a record to the Slack
// emulator.
//
// Needs `make build` (bin/slackemu; it also fills the module cache with every
// module the README's manifest uses) and `make tools` (.tools/bin/builder, ocb
// v0.165.0). OCB_BIN overrides the builder's path.
package ocb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

const modulePath = "github.com/slackexporter/slackexporter"

// readmeManifest returns the builder-config.yaml the README's "Add it to your
// collector" section shows, between its begin and end markers.
func readmeManifest(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- add-to-your-collector: begin[^>]*-->\\s*```yaml\\n(.*?)```\\s*<!-- add-to-your-collector: end -->")
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no ```yaml block between <!-- add-to-your-collector: begin … --> and <!-- add-to-your-collector: end -->")
	}
	return string(m[1])
}

// manifestVersion is the version the manifest names the exporter's module at.
func manifestVersion(t *testing.T, manifest string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*- gomod: ` + regexp.QuoteMeta(modulePath) + ` (v\S+)\s*$`).FindStringSubmatch(manifest)
	if m == nil {
		t.Fatalf("the README's manifest has no `- gomod: %s vX.Y.Z` line:\n%s", modulePath, manifest)
	}
	return m[1]
}

// TestReleaseVersionIsConsistent: the version users are told to copy is the
// one the distribution reports and the newest release in the changelog.
func TestReleaseVersionIsConsistent(t *testing.T) {
	root := harness.RepoRoot(t)
	readme := manifestVersion(t, readmeManifest(t, root))

	bc, err := os.ReadFile(filepath.Join(root, "builder-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  version: (\S+)\s*$`).FindSubmatch(bc)
	if m == nil {
		t.Fatal("builder-config.yaml has no dist version")
	}
	if dist := "v" + string(m[1]); dist != readme {
		t.Errorf("builder-config.yaml's dist.version is %s, the README's gomod line says %s", dist, readme)
	}

	cl, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	m = regexp.MustCompile(`(?m)^## (v\d+\.\d+\.\d+)\b`).FindSubmatch(cl)
	if m == nil {
		t.Fatal("CHANGELOG.md has no release heading (## vX.Y.Z)")
	}
	if string(m[1]) != readme {
		t.Errorf("CHANGELOG.md's newest release is %s, the README's gomod line says %s", m[1], readme)
	}
	if !regexp.MustCompile(`(?m)^## Unreleased\s*$`).Match(cl) {
		t.Error("CHANGELOG.md has no ## Unreleased section for the next changes")
	}

	rm, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(readme) + ` \| v0\.\d+\.\d+ \|`).Match(rm) {
		t.Errorf("the README's table of versions has no row for %s", readme)
	}
}

// TestReadmeManifestBuildsACollector builds a collector with ocb from the
// README's manifest as it stands, in a directory outside the repository,
// then sends it one ERROR record and waits for it in the emulator.
func TestReadmeManifestBuildsACollector(t *testing.T) {
	start := time.Now()
	root := harness.RepoRoot(t)
	manifest := readmeManifest(t, root)
	version := manifestVersion(t, manifest)
	if regexp.MustCompile(`(?m)^\s*replaces?:`).MatchString(manifest) {
		t.Fatalf("the README's manifest has a replaces: section; a user's build has nothing to replace with:\n%s", manifest)
	}
	builder := ocbBinary(t, root)

	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	writeModuleToProxy(t, root, proxy, version)

	// A module cache of its own, so that this tree, published as the release
	// version, never enters the machine's module cache (where it would stand for
	// that version in every later build). Everything else comes from the
	// machine's module cache (`make build` downloaded it), used as a proxy, and
	// from the configured proxies after it.
	sharedCache := goEnv(t, "GOMODCACHE")
	env := append(os.Environ(),
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOPROXY="+strings.Join([]string{
			fileURL(proxy),
			fileURL(filepath.Join(sharedCache, "cache", "download")),
			goEnv(t, "GOPROXY"),
		}, ","),
		// This tree has no published checksum as the release; the other modules
		// come from the machine's module cache, checked when they were first
		// downloaded.
		"GOSUMDB=off",
		// The private module cache must be removable when the test ends.
		"GOFLAGS="+strings.TrimSpace(goEnv(t, "GOFLAGS")+" -modcacherw"),
	)

	work := filepath.Join(tmp, "user")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "builder-config.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, builder, "--config", "builder-config.yaml")
	cmd.Dir, cmd.Env = work, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ocb failed on the README's manifest: %v\n%s", err, harness.Tail(string(out), 40))
	}
	built := time.Since(start)
	name := regexp.MustCompile(`(?m)^  name: (\S+)\s*$`).FindStringSubmatch(manifest)
	outDir := regexp.MustCompile(`(?m)^  output_path: (\S+)\s*$`).FindStringSubmatch(manifest)
	if name == nil || outDir == nil {
		t.Fatalf("the README's manifest has no dist name or output_path:\n%s", manifest)
	}
	bin := filepath.Join(work, outDir[1], name[1])

	// The collector holds the exporter at the version the README names.
	comps, err := exec.Command(bin, "components").CombinedOutput()
	if err != nil {
		t.Fatalf("%s components: %v\n%s", bin, err, comps)
	}
	if want := "module: " + modulePath + " " + version; !strings.Contains(string(comps), want) {
		t.Fatalf("%s components does not list %q:\n%s", bin, want, comps)
	}

	emu := harness.StartEmulator(t)
	health := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	col := harness.StartCollectorBinary(t, bin, userConfig, append(emu.Env(), "HEALTH_ENDPOINT="+health)...)

	resp, err := http.Get("http://" + health + "/")
	if err != nil {
		t.Fatalf("health_check: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health_check answered %s, want 200 once the collector is ready", resp.Status)
	}

	const body = "README collector delivers: inventory sync failed"
	col.SendLogs(t, harness.Service("inventory", "prod"),
		harness.Record(log.SeverityError, body, attribute.String("job", "sync")))
	msgs := emu.WaitForMessages(t, "#alerts", 1, 60*time.Second)
	if !msgs[0].Contains(body) {
		t.Fatalf("want the record in #alerts, got:\n%s", emu.MessagesText(t))
	}
	if strings.Contains(col.Logs(), emu.Token) {
		t.Error("the bot token appears in the collector's log")
	}
	t.Logf("ocb build from the README's manifest took %v; whole test %v", built.Round(time.Second), time.Since(start).Round(time.Second))
}

// userConfig is what a user would run the README's collector with: the
// persistent queue in file_storage and the health_check extension, both from
// the README's manifest.
const userConfig = `
extensions:
  file_storage:
    directory: ${env:STORAGE_DIR}
  health_check:
    endpoint: ${env:HEALTH_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 256
exporters:
  slack:
    token: ${env:SLACK_BOT_TOKEN}
    api_url: ${env:SLACK_API_URL}
    channel: "#alerts"
    sending_queue:
      storage: file_storage
service:
  extensions: [file_storage, health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [slack]
`

// ocbBinary is ocb as `make tools` installs it.
func ocbBinary(t *testing.T, root string) string {
	t.Helper()
	p := os.Getenv("OCB_BIN")
	if p == "" {
		p = filepath.Join(root, ".tools", "bin", "builder")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		t.Fatalf("ocb is missing at %s: run `make tools` (or set OCB_BIN)", p)
	}
	return p
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

// writeModuleToProxy lays out the exporter's module, as the files of this
// tree that git tracks or would track (what a tag would publish, with
// uncommitted changes), as version in a GOPROXY directory.
func writeModuleToProxy(t *testing.T, root, proxy, version string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files in %s: %v", root, err)
	}
	var files []modzip.File
	for rel := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		files = append(files, treeFile{root: root, rel: filepath.ToSlash(rel), info: fi})
	}
	mv := module.Version{Path: modulePath, Version: version}
	var z bytes.Buffer
	if err := modzip.Create(&z, mv, files); err != nil {
		t.Fatalf("zipping the module: %v", err)
	}
	checkZipHasExporter(t, z.Bytes(), mv)

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  gomod,
		version + ".zip":  z.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkZipHasExporter fails the test if the module zip lacks the exporter's
// package or holds another module's files (e2e/, examples/, …).
func checkZipHasExporter(t *testing.T, data []byte, mv module.Version) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	prefix := mv.Path + "@" + mv.Version + "/"
	have := map[string]bool{}
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, prefix)
		have[name] = true
		if strings.HasPrefix(name, "e2e/") || strings.HasPrefix(name, "examples/") || strings.HasPrefix(name, "tools/") {
			t.Errorf("the module zip holds %s, a file of another module", name)
		}
	}
	for _, want := range []string{"go.mod", "factory.go", "exporter.go", "internal/metadata/generated_status.go"} {
		if !have[want] {
			t.Errorf("the module zip lacks %s", want)
		}
	}
}

// treeFile is a file of the work tree, for golang.org/x/mod/zip.
type treeFile struct {
	root, rel string
	info      fs.FileInfo
}

func (f treeFile) Path() string                 { return f.rel }
func (f treeFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f treeFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.root, f.rel)) }
