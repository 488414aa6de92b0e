package helmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// podSpec turns one rendered pod's container into a containerSpec:
// ConfigMap volumes from the rendered ConfigMaps, emptyDirs as fresh
// directories, PVCs from claims (claim name -> directory), env from the
// image, the container and the rendered Secret of envFrom.
func podSpec(t *testing.T, r *release, rootfs string, ic *imageConfig, pod corev1.PodSpec, claims map[string]string) containerSpec {
	t.Helper()
	c := pod.Containers[0]
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil {
		t.Fatalf("pod has no runAsUser/runAsGroup: %+v", sc)
	}
	gid := int(*sc.RunAsGroup)
	groups := []int{gid}
	if sc.FSGroup != nil && int(*sc.FSGroup) != gid {
		groups = append(groups, int(*sc.FSGroup))
	}
	vols := map[string]string{} // volume name -> host dir
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			cm := r.get(t, "ConfigMap", v.ConfigMap.Name).(*corev1.ConfigMap)
			d := t.TempDir()
			for f, data := range cm.Data {
				if err := os.WriteFile(filepath.Join(d, f), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			vols[v.Name] = d
		case v.EmptyDir != nil:
			vols[v.Name] = emptyDir(t, groups[len(groups)-1])
		case v.PersistentVolumeClaim != nil:
			d, ok := claims[v.PersistentVolumeClaim.ClaimName]
			if !ok {
				t.Fatalf("no directory for claim %s", v.PersistentVolumeClaim.ClaimName)
			}
			vols[v.Name] = d
		default:
			t.Fatalf("volume %s: kind not supported by the test runtime", v.Name)
		}
	}
	var mounts []mount
	for _, m := range c.VolumeMounts {
		src, ok := vols[m.Name]
		if !ok {
			t.Fatalf("mount of unknown volume %s", m.Name)
		}
		mt := mount{Src: src, Dst: m.MountPath, RO: m.ReadOnly}
		if m.SubPath != "" {
			mt.Src, mt.File = filepath.Join(src, m.SubPath), true
		}
		mounts = append(mounts, mt)
	}
	// Kubernetes: the container's env wins over envFrom, both over the
	// image's Env (a name set twice would reach the program twice, and the
	// first one wins in Go's os.Getenv).
	var env []string
	set := func(k, v string) {
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		env = append(env, k+"="+v)
	}
	for _, e := range ic.Config.Env {
		k, v, _ := strings.Cut(e, "=")
		set(k, v)
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef == nil {
			t.Fatalf("envFrom %+v not supported", ef)
		}
		s := r.get(t, "Secret", ef.SecretRef.Name).(*corev1.Secret)
		for k, v := range s.StringData {
			set(k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s from a reference not supported", e.Name)
		}
		set(e.Name, e.Value)
	}
	// Kubernetes: command replaces the entrypoint (and drops the image's
	// cmd); args alone replace the cmd.
	argv := append([]string{}, ic.Config.Entrypoint...)
	switch {
	case len(c.Command) > 0:
		argv = append(append([]string{}, c.Command...), c.Args...)
	case len(c.Args) > 0:
		argv = append(argv, c.Args...)
	default:
		argv = append(argv, ic.Config.Cmd...)
	}
	wd := c.WorkingDir
	if wd == "" {
		wd = ic.Config.WorkingDir
	}
	return containerSpec{Rootfs: rootfs, Mounts: mounts, UID: int(*sc.RunAsUser), GID: gid, Groups: groups,
		WorkDir: wd, Env: env, Argv: argv}
}

// probe runs an exec probe in the container's file system (same mounts).
func probe(t *testing.T, spec containerSpec, cmd []string) (int, string) {
	t.Helper()
	p := spec
	p.Argv = cmd
	return runOnce(t, context.Background(), p, true, 30*time.Second)
}

// waitProbe runs an exec probe against the running container c until it passes.
func waitProbe(t *testing.T, c *container, spec containerSpec, cmd []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, out := probe(t, spec, cmd)
		if code == 0 {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("the container exited (%v) before probe %v passed; its output:\n%s", c.err, cmd, c.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %v still exits %d after %s:\n%s\ncontainer output:\n%s", cmd, code, timeout, out, c.out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// stopContainer sends SIGTERM to PID 1 (what the kubelet does) and expects
// a clean exit within the grace period.
func stopContainer(t *testing.T, c *container, pid int, grace time.Duration) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t, grace); code != 0 {
		t.Errorf("container exited %d after SIGTERM, want 0; output:\n%s", code, c.out)
	}
}

// TestImageEntrypoint runs the image as built: its entrypoint and command
// (`openim-supervisor run --config /etc/openim/config.yaml`: every OpenIM
// program), user and environment, read-only, with writable volumes where a
// pod would have them; every instance becomes ready and SIGTERM stops it.
func TestImageEntrypoint(t *testing.T) {
	rootfs, ic := image(t)
	if ic.Config.User != "65532:65532" || len(ic.Config.Entrypoint) == 0 {
		t.Fatalf("image user %q entrypoint %v, want 65532:65532 and the supervisor", ic.Config.User, ic.Config.Entrypoint)
	}
	var mounts []mount
	for _, d := range []string{"/var/lib/openim", "/var/log/openim", "/run/openim", "/tmp"} {
		mounts = append(mounts, mount{Src: emptyDir(t, 65532), Dst: d})
	}
	// No MongoDB for run's version gate here: the data version on record,
	// as the upgrade hook leaves it on the volume.
	stateDir := filepath.Join(mounts[0].Src, "upgrade")
	if err := os.MkdirAll(stateDir, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "state.json"), []byte(`{"data_version": "3.8.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The components "configured": the stand-in's check-component fails
	// until then, as OpenIM's does with its shipped config.
	standin := filepath.Join(t.TempDir(), "standin.yaml")
	if err := os.WriteFile(standin, []byte("services:\n  openim-api: {ports: [10002]}\n  openim-msggateway: {ports: [10001]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts = append(mounts, mount{Src: standin, Dst: "/etc/openim/config/standin.yaml", RO: true, File: true})
	spec := containerSpec{Rootfs: rootfs, Mounts: mounts, UID: 65532, GID: 65532, Groups: []int{65532},
		WorkDir: ic.Config.WorkingDir, Env: ic.Config.Env, Argv: append(append([]string{}, ic.Config.Entrypoint...), ic.Config.Cmd...)}
	c := startContainer(t, spec, true)
	pid := c.pid1(t)
	waitProbe(t, c, spec, []string{"openim-supervisor", "status"}, 90*time.Second)
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "openim-supervis" {
		t.Errorf("PID 1 of the container is %q, want openim-supervisor", comm)
	}
	if uid := procStatus(t, pid, "Uid"); strings.Fields(uid)[0] != "65532" {
		t.Errorf("PID 1 runs as uid %q, want 65532", uid)
	}
	code, out := probe(t, spec, []string{"openim-supervisor", "status", "--json"})
	if code != 0 {
		t.Fatalf("status --json: exit %d\n%s", code, out)
	}
	var st struct {
		Instances []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	names := map[string]int{}
	for _, i := range st.Instances {
		names[i.Name]++
		if i.State != "running" {
			t.Errorf("%s is %s", i.Name, i.State)
		}
	}
	for _, p := range programs {
		if names[p] == 0 {
			t.Errorf("the image's default config does not run %s (runs %v)", p, names)
		}
	}
	stopContainer(t, c, pid, 40*time.Second)
}

// TestChartPodProbes runs the openim-api pod as the chart renders it with
// minimal-values.yaml: the supervisor as PID 1 with its one-program config,
// the OpenIM files mounted by subPath over the image's config dir, the
// Secret as environment; its readiness and liveness probes (the rendered
// exec commands) pass, and the kubelet's SIGTERM stops it cleanly within
// the grace period. Its state dir is an emptyDir, so `run`'s version gate
// reads the data version from MongoDB and Redis, as in a cluster: the
// components point at the test servers (a database and a Redis db of the
// test's own, fresh: a new installation), reached on the host's loopback,
// so the pod shares the host's network and openim-api gets a free port.
func TestChartPodProbes(t *testing.T) {
	rootfs, ic := image(t)
	srv := testServers(t, "helmpod")
	ctx := context.Background()
	if err := srv.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	overlay := filepath.Join(t.TempDir(), "test-servers.yaml")
	vals := fmt.Sprintf(`components:
  mongodb: {uri: %q, address: [%q], database: %q}
  redis: {address: [%q], db: %d}
programs:
  openim-api:
    config: {api: {ports: [%d]}}
`, srv.mongoURI(), srv.mongoHost, srv.db, srv.redisAddr, srv.redisDB, port)
	if err := os.WriteFile(overlay, []byte(vals), 0o644); err != nil {
		t.Fatal(err)
	}
	r := render(t, "-f", filepath.Join(chartDir, "ci", "minimal-values.yaml"), "-f", overlay)
	d := r.get(t, "Deployment", component("openim-api")).(*appsv1.Deployment)
	pod := d.Spec.Template.Spec
	if cp := pod.Containers[0].Ports; len(cp) != 1 || cp[0].ContainerPort != int32(port) {
		t.Fatalf("container ports %+v, want %d from programs.openim-api.config.api.ports", cp, port)
	}
	spec := podSpec(t, r, rootfs, ic, pod, nil)
	c := startContainer(t, spec, false)
	pid := c.pid1(t)
	ctr := pod.Containers[0]
	// The startup probe passes once the instance passed its check; the first
	// probe may land either side, so only passing within the timeout is asserted.
	waitProbe(t, c, spec, ctr.StartupProbe.Exec.Command, 60*time.Second)
	if code, out := probe(t, spec, ctr.ReadinessProbe.Exec.Command); code != 0 {
		t.Errorf("readiness probe exits %d:\n%s", code, out)
	}
	if code, out := probe(t, spec, ctr.LivenessProbe.Exec.Command); code != 0 {
		t.Errorf("liveness probe exits %d:\n%s", code, out)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "openim-supervis" {
		t.Errorf("PID 1 of the pod is %q, want openim-supervisor", comm)
	}
	code, out := probe(t, spec, []string{"openim-supervisor", "status"})
	if code != 0 || !strings.Contains(out, "openim-api") || strings.Count(out, "\n") != 3 {
		t.Errorf("the pod's status (want openim-api alone):\n%s", out)
	}
	// A file the chart renders is what the program sees.
	code, out = probe(t, spec, []string{"openim-supervisor", "config", "check", "-v"})
	if code != 0 {
		t.Errorf("config check in the pod: exit %d\n%s", code, out)
	}
	stopContainer(t, c, pid, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second)
}

// TestChartConfigCheck: in the pod of every program, for every ci values
// file, the supervisor's check of OpenIM's config dir (`openim-supervisor
// config check`, what `run` does before it starts anything; exit 3 on a
// missing key or a MongoDB user without a password) passes: the rendered
// files mounted over the image's OpenIM 3.8.3 defaults, the Secret as the
// environment. A release with secrets.existingSecret gets a Secret holding
// what the chart README says such a Secret must hold.
func TestChartConfigCheck(t *testing.T) {
	rootfs, ic := image(t)
	for _, vf := range valuesFiles(t) {
		t.Run(filepath.Base(vf), func(t *testing.T) {
			vals := readValues(t, vf)
			r := render(t, "-f", vf)
			if name, _ := path(vals, "secrets", "existingSecret").(string); name != "" {
				r.objects["Secret/"+name] = &corev1.Secret{StringData: map[string]string{
					"IMENV_SHARE_SECRET": "existing-share-secret", "IMENV_MONGODB_PASSWORD": "existing-mongo-password"}}
			}
			for _, p := range programs {
				pod := r.get(t, "Deployment", component(p)).(*appsv1.Deployment).Spec.Template.Spec
				spec := podSpec(t, r, rootfs, ic, pod, nil)
				cmd := []string{"/usr/bin/openim-supervisor", "config", "check", "--config", "/etc/openim/supervisor/" + p + ".yaml"}
				if code, out := probe(t, spec, cmd); code != 0 {
					t.Errorf("%s pod: %v exits %d:\n%s", p, cmd, code, out)
				}
			}
		})
	}
}

// --- the upgrade hook against real servers ----------------------------------

// freePort is a TCP port free on the host's loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type seqData struct {
	maxSeq, minSeq map[string]int64 // conversation -> value
	readSeq        map[[2]string]int64
	userMin        map[[2]string]int64
}

// seed37 writes an OpenIM 3.7 seq dataset into Redis db.
func seed37(t *testing.T, ctx context.Context, rdb *redis.Client, convs int) *seqData {
	t.Helper()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	d := &seqData{maxSeq: map[string]int64{}, minSeq: map[string]int64{}, readSeq: map[[2]string]int64{}, userMin: map[[2]string]int64{}}
	pipe := rdb.Pipeline()
	for i := 0; i < convs; i++ {
		conv := fmt.Sprintf("si_u%d_u%d", i, i+1)
		mx := int64(100 + rand.IntN(10000))
		d.maxSeq[conv], d.minSeq[conv] = mx, int64(rand.IntN(10))
		pipe.Set(ctx, "MAX_SEQ:"+conv, mx, 0)
		pipe.Set(ctx, "MIN_SEQ:"+conv, d.minSeq[conv], 0)
		for _, u := range []string{fmt.Sprintf("u%d", i), fmt.Sprintf("u%d", i+1)} {
			k := [2]string{u, conv}
			d.readSeq[k], d.userMin[k] = mx-int64(rand.IntN(50)), int64(rand.IntN(5))
			pipe.Set(ctx, "HAS_READ_SEQ:"+u+":"+conv, d.readSeq[k], 0)
			pipe.Set(ctx, "CON_USER_MIN_SEQ:"+conv+"u:"+u, d.userMin[k], 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkSeq compares Mongo's seq and seq_user with the dataset and returns
// whether OpenIM's marker says the 3.8 migration is done.
func checkSeq(t *testing.T, ctx context.Context, db *mongo.Database, d *seqData) {
	t.Helper()
	cur, err := db.Collection("seq").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []struct {
		Conv string `bson:"conversation_id"`
		Max  int64  `bson:"max_seq"`
		Min  int64  `bson:"min_seq"`
	}
	if err := cur.All(ctx, &seqs); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != len(d.maxSeq) {
		t.Errorf("seq has %d documents, want %d", len(seqs), len(d.maxSeq))
	}
	for _, s := range seqs {
		if s.Max != d.maxSeq[s.Conv] || s.Min != d.minSeq[s.Conv] {
			t.Errorf("seq %s = max %d min %d, want %d %d", s.Conv, s.Max, s.Min, d.maxSeq[s.Conv], d.minSeq[s.Conv])
		}
	}
	cur, err = db.Collection("seq_user").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var users []struct {
		User string `bson:"user_id"`
		Conv string `bson:"conversation_id"`
		Read int64  `bson:"read_seq"`
		Min  int64  `bson:"min_seq"`
	}
	if err := cur.All(ctx, &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != len(d.readSeq) {
		t.Errorf("seq_user has %d documents, want %d", len(users), len(d.readSeq))
	}
	for _, u := range users {
		k := [2]string{u.User, u.Conv}
		if u.Read != d.readSeq[k] || u.Min != d.userMin[k] {
			t.Errorf("seq_user %v = read %d min %d, want %d %d", k, u.Read, u.Min, d.readSeq[k], d.userMin[k])
		}
	}
	var marker struct {
		Value string `bson:"value"`
	}
	if err := db.Collection("data_version").FindOne(ctx, bson.M{"key": "seq"}).Decode(&marker); err != nil || marker.Value != "38" {
		t.Errorf("OpenIM's 3.8 marker data_version{key: seq} = %+v (%v), want value 38", marker, err)
	}
}

type stateRecord struct {
	DataVersion string `json:"data_version"`
	History     []struct {
		Step   string `json:"step"`
		Result string `json:"result"`
		Host   string `json:"host"`
		PID    int    `json:"pid"`
	} `json:"history"`
}

func readState(t *testing.T, dir string) *stateRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "upgrade", "state.json"))
	if err != nil {
		t.Fatalf("the hook left no state record: %v", err)
	}
	var s stateRecord
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// stores is a test's own database on the test-services MongoDB-protocol
// server and its own Redis db (OPENIM_TEST_MONGO_URI, OPENIM_TEST_REDIS_ADDR),
// dropped when the test ends.
type stores struct {
	mongoHost, redisAddr, db string
	redisDB                  int
	mc                       *mongo.Client
	rdb                      *redis.Client
}

// mongoURI is the uri of the test's database.
func (s *stores) mongoURI() string { return "mongodb://" + s.mongoHost + "/" + s.db }

// testServers connects to the test servers and picks a fresh database
// (prefix_<nanos>) and a random Redis db.
func testServers(t *testing.T, prefix string) *stores {
	t.Helper()
	uri, addr := os.Getenv("OPENIM_TEST_MONGO_URI"), os.Getenv("OPENIM_TEST_REDIS_ADDR")
	if uri == "" || addr == "" {
		if os.Getenv("OPENIM_TEST_STRICT") == "1" {
			t.Fatal("OPENIM_TEST_MONGO_URI / OPENIM_TEST_REDIS_ADDR not set (scripts/test-services.sh start)")
		}
		t.Skip("OPENIM_TEST_MONGO_URI / OPENIM_TEST_REDIS_ADDR not set")
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mongo.Connect(context.Background(), options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	s := &stores{mongoHost: u.Host, redisAddr: addr, mc: mc,
		db: fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano()), redisDB: 100 + rand.IntN(800)}
	s.rdb = redis.NewClient(&redis.Options{Addr: addr, DB: s.redisDB})
	t.Cleanup(func() {
		_ = mc.Database(s.db).Drop(context.Background())
		_ = mc.Disconnect(context.Background())
		_ = s.rdb.Close()
	})
	return s
}

// hookRelease renders the chart for components at the test servers: a
// database and a Redis db of the test's own (MongoDB without
// authentication: no username, a uri).
func hookRelease(t *testing.T, s *stores, extra ...string) *release {
	t.Helper()
	vals := fmt.Sprintf(`secrets: {shareSecret: hook-test}
components:
  mongodb: {uri: %q, address: [%q], database: %q, username: "", authSource: ""}
  redis: {address: [%q], db: %d}
`, s.mongoURI(), s.mongoHost, s.db, s.redisAddr, s.redisDB)
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte(vals), 0o644); err != nil {
		t.Fatal(err)
	}
	return render(t, append([]string{"-f", f}, extra...)...)
}

func jobSpec(t *testing.T, r *release, rootfs string, ic *imageConfig, pvc string) containerSpec {
	t.Helper()
	job := r.get(t, "Job", "rel-openim-server-upgrade").(*batchv1.Job)
	return podSpec(t, r, rootfs, ic, job.Spec.Template.Spec, map[string]string{"rel-openim-server-upgrade-state": pvc})
}

// TestHookJobMigrates runs the rendered pre-install hook Job from the image
// against the MongoDB-protocol and Redis test servers: `helm install` onto
// OpenIM 3.7 data (upgrade.from=3.7.1) copies the Redis seqs into Mongo and
// writes OpenIM's marker; a re-run finds nothing to do (state record on the
// volume); a later `helm upgrade` with a fresh volume finds the work done
// from OpenIM's markers.
func TestHookJobMigrates(t *testing.T) {
	rootfs, ic := image(t)
	srv := testServers(t, "helmhook")
	ctx := context.Background()
	data := seed37(t, ctx, srv.rdb, 200)

	r := hookRelease(t, srv, "--set", "upgrade.from=3.7.1")
	pvc := emptyDir(t, 65532)
	spec := jobSpec(t, r, rootfs, ic, pvc)
	code, out := runOnce(t, ctx, spec, false, 3*time.Minute)
	if code != 0 {
		t.Fatalf("hook Job exited %d:\n%s", code, out)
	}
	t.Logf("hook output:\n%s", out)
	checkSeq(t, ctx, srv.mc.Database(srv.db), data)
	st := readState(t, pvc)
	if st.DataVersion != "3.8.3" {
		t.Errorf("state record data_version %q, want 3.8.3", st.DataVersion)
	}
	done := map[string]int{}
	for _, h := range st.History {
		if h.Result == "done" {
			done[h.Step]++
		} else if !strings.HasSuffix(h.Step, "/openim-config") { // the config step: the chart renders 3.8.3's files
			t.Errorf("step %s: %s on a fresh database, want done", h.Step, h.Result)
		}
	}
	if done["3.8.0/redis-seq-to-mongo"] != 1 {
		t.Errorf("steps done %v, want 3.8.0/redis-seq-to-mongo once", done)
	}
	if !strings.Contains(out, "Backup: /var/lib/openim/backup/") {
		t.Errorf("the hook took no backup on its volume:\n%s", out)
	}

	// Re-run (helm upgrade --install again, same volume): nothing to do.
	code, out = runOnce(t, ctx, spec, false, time.Minute)
	if code != 0 || !strings.Contains(out, "Nothing to do") {
		t.Errorf("second run: exit %d, want 0 and nothing to do:\n%s", code, out)
	}
	// A later helm upgrade whose volume is new: OpenIM's markers tell.
	r = hookRelease(t, srv, "--is-upgrade")
	// (3.8.3 has no OpenIM marker: the plan lists its steps, each found applied.)
	code, out = runOnce(t, ctx, jobSpec(t, r, rootfs, ic, emptyDir(t, 65532)), false, time.Minute)
	if code != 0 || strings.Contains(out, `msg="step done"`) {
		t.Errorf("upgrade with a new volume: exit %d, want 0 and no step done:\n%s", code, out)
	}
	checkSeq(t, ctx, srv.mc.Database(srv.db), data)
}

// TestHookJobsAtOnce: two hook Jobs (two releases, or a release and an
// Ansible host) start at once on the same data with separate volumes: the
// MongoDB lease lets one migrate; the other waits, then finds every step
// applied. Exactly one runner per step.
func TestHookJobsAtOnce(t *testing.T) {
	rootfs, ic := image(t)
	srv := testServers(t, "helmhook2")
	ctx := context.Background()
	data := seed37(t, ctx, srv.rdb, 300)
	r := hookRelease(t, srv, "--set", "upgrade.from=3.7.1")

	pvcs := []string{emptyDir(t, 65532), emptyDir(t, 65532)}
	codes, outs, errs := make([]int, 2), make([]string, 2), make([]error, 2)
	var cs []*container
	for i := range pvcs {
		spec := jobSpec(t, r, rootfs, ic, pvcs[i])
		spec.Hostname = fmt.Sprintf("rel-openim-server-upgrade-%d", i)
		cs = append(cs, startContainer(t, spec, false))
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = c.waitCode(5 * time.Minute)
			outs[i] = c.out.String()
		}()
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != 0 || errs[i] != nil {
			t.Fatalf("hook %d exited %d (%v):\n%s", i, codes[i], errs[i], outs[i])
		}
	}
	runners := map[string][]string{} // step -> "hook i" that did it
	for i, p := range pvcs {
		for _, h := range readState(t, p).History {
			if h.Result == "done" {
				runners[h.Step] = append(runners[h.Step], "hook "+strconv.Itoa(i))
			}
		}
	}
	if len(runners["3.8.0/redis-seq-to-mongo"]) == 0 {
		t.Errorf("no hook ran 3.8.0/redis-seq-to-mongo: %v", runners)
	}
	for step, rs := range runners {
		if len(rs) != 1 {
			t.Errorf("step %s run by %v, want exactly one runner\nhook 0:\n%s\nhook 1:\n%s", step, rs, outs[0], outs[1])
		}
	}
	checkSeq(t, ctx, srv.mc.Database(srv.db), data)
}
