package openimconf

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Program is a process of the supervisor config, as CheckPrograms needs it.
type Program struct {
	Name string
	// Custom: the process has its own command, so it is not an OpenIM
	// service and is not checked.
	Custom    bool
	Instances int
	// Ports is the process's ports: list (element i for instance i).
	Ports []int
	// Env is the process's own env: entries (they may hold IMENV_ overrides).
	Env map[string]string
	// GRPC: its readiness check dials gRPC on {port}, so ports: must be the
	// service's rpc.ports (openim-msggateway's RPC port, not its websocket).
	GRPC bool
	// File and the lines of the entry, its instances: and its ports: keys
	// (0 when not written), for errors.
	File                           string
	Line, InstancesLine, PortsLine int
}

// CheckPrograms checks the supervisor's processes against the OpenIM
// config dir, each as its own process would see it (env file, then the
// process's env:): an instance count beyond a port list OpenIM indexes by
// `-i` (OpenIM fails with "index out of range"), a `ports:` that disagrees
// with OpenIM's own list (the readiness check would watch the wrong port),
// and two instances given the same port.
func CheckPrograms(d *Dir, progs []Program) config.Errors {
	var errs config.Errors
	type use struct{ who, where string }
	used := map[int]use{}
	for _, p := range progs {
		svc, ok := ServiceByName(p.Name)
		if p.Custom || !ok {
			continue
		}
		f := d.Files[svc.File]
		if f == nil {
			continue // Check reports the missing file
		}
		view := d.With(p.Env)
		out := reflect.New(reflect.TypeOf(f.Spec.New()).Elem())
		if err := view.Decode(svc.File, out.Interface()); err != nil {
			continue // Check reports it
		}
		leaves := map[string]Leaf{}
		for _, l := range view.Leaves(f) {
			leaves[strings.ToLower(l.Key)] = l
		}
		describe := func(key string) string {
			l, ok := leaves[strings.ToLower(key)]
			switch {
			case !ok:
				return fmt.Sprintf("%s %s (missing)", svc.File, key)
			case l.FromEnv:
				return fmt.Sprintf("%s %s = %s (%s)", svc.File, key, l.Var, view.envWhere(l.Var))
			}
			return fmt.Sprintf("%s:%d %s", f.Path, l.Line, key)
		}
		line := p.InstancesLine
		if line == 0 {
			line = p.Line
		}
		for _, key := range svc.Indexed {
			if strings.HasPrefix(key, "prometheus.") && !boolAt(out, "prometheus.enable") {
				continue
			}
			list := intsAt(out, key)
			if p.Instances > len(list) {
				errs = append(errs, &config.Error{File: p.File, Line: line, Key: p.Name + ".instances",
					Msg: fmt.Sprintf("is %d, but %s lists %d port(s): OpenIM starts instance N on element N, so instance %d fails with \"index out of range\"",
						p.Instances, describe(key), len(list), len(list)),
					Fix: fmt.Sprintf("lower instances to %d, or add ports to %s in %s", len(list), key, svc.File)})
				continue
			}
			for i := 0; i < p.Instances; i++ {
				port := list[i]
				who := fmt.Sprintf("%s:%d", p.Name, i)
				if prev, dup := used[port]; dup {
					errs = append(errs, &config.Error{File: f.Path, Line: d.Line(svc.File, key), Key: key,
						Msg: fmt.Sprintf("port %d of %s is also port of %s (%s): one of them cannot listen", port, who, prev.who, prev.where),
						Fix: "give each instance its own port"})
				} else {
					used[port] = use{who: who, where: describe(key)}
				}
			}
		}
		watched := svc.Public
		if p.GRPC && slices.Contains(svc.Indexed, "rpc.ports") {
			watched = "rpc.ports"
		}
		if watched == "" || len(p.Ports) == 0 {
			continue
		}
		public := intsAt(out, watched)
		pline := p.PortsLine
		if pline == 0 {
			pline = line
		}
		for i := 0; i < p.Instances && i < len(p.Ports) && i < len(public); i++ {
			if p.Ports[i] != public[i] {
				errs = append(errs, &config.Error{File: p.File, Line: pline, Key: p.Name + ".ports",
					Msg: fmt.Sprintf("element %d is %d, but OpenIM's %s gives instance %d port %d: the readiness check would watch a port the instance does not listen on",
						i, p.Ports[i], describe(watched), i, public[i]),
					Fix: fmt.Sprintf("write the same ports in both places (ports: %v here)", public[:min(len(public), p.Instances)])})
				break
			}
		}
		if len(p.Ports) < p.Instances {
			errs = append(errs, &config.Error{File: p.File, Line: pline, Key: p.Name + ".ports",
				Msg: fmt.Sprintf("lists %d port(s) for %d instances", len(p.Ports), p.Instances),
				Fix: fmt.Sprintf("list one port per instance, as in %s", describe(watched))})
		}
	}
	return errs
}

// field walks a struct value along a dotted mapstructure key.
func fieldAt(v reflect.Value, key string) (reflect.Value, bool) {
	for _, part := range strings.Split(key, ".") {
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		f, ok := fieldFor(v.Type(), part)
		if !ok {
			return reflect.Value{}, false
		}
		v = v.FieldByIndex(f.Index)
	}
	return v, true
}

func intsAt(v reflect.Value, key string) []int {
	f, ok := fieldAt(v, key)
	if !ok || f.Kind() != reflect.Slice {
		return nil
	}
	out := make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out
}

func boolAt(v reflect.Value, key string) bool {
	f, ok := fieldAt(v, key)
	return ok && f.Kind() == reflect.Bool && f.Bool()
}
