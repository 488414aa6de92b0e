//go:build linux

package main

import (
	"fmt"
	"strings"
	"time"
)

// render prints one markdown table: a row per metric and N, a column per
// peer, then ours/peer ratios.
func render(rs []result, peers []peer, counts []int, idleN int, idle time.Duration, cycles int) string {
	get := func(peer string, n int) *result {
		for i := range rs {
			if rs[i].peer == peer && rs[i].n == n {
				return &rs[i]
			}
		}
		return nil
	}
	const ours = "openim-supervisor"
	var b strings.Builder
	b.WriteString("| metric | N |")
	for _, p := range peers {
		b.WriteString(" " + p.name() + " |")
	}
	for _, p := range peers {
		if p.name() != ours {
			b.WriteString(" ours/" + p.name() + " |")
		}
	}
	b.WriteString("\n|---|---|")
	for range peers {
		b.WriteString("---|")
	}
	for _, p := range peers {
		if p.name() != ours {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	type metric struct {
		name string
		val  func(r *result) (float64, bool)
		unit string
		only int // 0: every N
	}
	ms := []metric{
		{"start-all", func(r *result) (float64, bool) { return ms(r.start), r.start > 0 }, "ms", 0},
		{"restart p50", func(r *result) (float64, bool) { return ms(r.p50), r.kills > 0 }, "ms", 0},
		{"restart p95", func(r *result) (float64, bool) { return ms(r.p95), r.kills > 0 }, "ms", 0},
		{"memory (PSS)", func(r *result) (float64, bool) { return float64(r.pssKiB) / 1024, r.pssKiB > 0 }, "MiB", 0},
		{"of it the guardian", func(r *result) (float64, bool) { return float64(r.guardKiB) / 1024, r.guardKiB > 0 }, "MiB", 0},
		{"idle CPU / " + idle.String(), func(r *result) (float64, bool) { return ms(r.idle), r.idleDone }, "ms", idleN},
		{"stop-all", func(r *result) (float64, bool) { return ms(r.stop), r.stop > 0 }, "ms", 0},
	}
	for _, m := range ms {
		for _, n := range counts {
			if m.only != 0 && n != m.only {
				continue
			}
			fmt.Fprintf(&b, "| %s (%s) | %d |", m.name, m.unit, n)
			vals := map[string]float64{}
			for _, p := range peers {
				r := get(p.name(), n)
				switch {
				case r == nil:
					b.WriteString(" - |")
				case r.err != nil:
					b.WriteString(" error |")
				default:
					v, ok := m.val(r)
					if !ok {
						b.WriteString(" - |")
						continue
					}
					vals[p.name()] = v
					fmt.Fprintf(&b, " %s |", num(v))
				}
			}
			for _, p := range peers {
				if p.name() == ours {
					continue
				}
				o, ok1 := vals[ours]
				v, ok2 := vals[p.name()]
				if !ok1 || !ok2 || v == 0 {
					b.WriteString(" - |")
					continue
				}
				fmt.Fprintf(&b, " %.2f |", o/v)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nstart-all and stop-all are medians of %d start/stop cycles per supervisor and N, interleaved across the supervisors; the other rows are from the first cycle. Each cycle (ms):\n\n", cycles)
	b.WriteString("| N | supervisor | start-all, each cycle | stop-all, each cycle |\n|---|---|---|---|\n")
	for _, n := range counts {
		for _, p := range peers {
			if r := get(p.name(), n); r != nil && r.err == nil {
				fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", n, p.name(), each(r.starts), each(r.stops))
			}
		}
	}
	var errs []string
	for _, r := range rs {
		if r.err != nil {
			errs = append(errs, fmt.Sprintf("- %s N=%d: %v", r.peer, r.n, r.err))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nErrors:\n" + strings.Join(errs, "\n") + "\n")
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// each lists durations in ms, in the order measured.
func each(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = num(ms(d))
	}
	return strings.Join(parts, ", ")
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
