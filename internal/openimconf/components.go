package openimconf

import (
	"net"
	"strings"
)

// Component is a server OpenIM needs, at one address (host:port).
type Component struct {
	Name string // MongoDB, Redis, Kafka, etcd, MinIO
	Addr string
}

// Components lists the servers the config points OpenIM at, with the env
// file's IMENV_ overrides applied: every MongoDB, Redis and Kafka address,
// etcd's when discovery is etcd, MinIO's internal address when the object
// store is minio. These are the servers check-component waits for. A
// MongoDB uri with mongodb+srv (hosts from DNS) adds no address.
func (d *Dir) Components() []Component {
	c, _ := d.Typed() // decode errors are Check's to report
	var out []Component
	add := func(name string, addrs []string, port string) {
		for _, a := range addrs {
			if a = hostPort(a, port); a != "" {
				out = append(out, Component{Name: name, Addr: a})
			}
		}
	}
	if c.Mongo.URI != "" {
		add("MongoDB", mongoHosts(c.Mongo.URI), "27017")
	} else {
		add("MongoDB", c.Mongo.Address, "27017")
	}
	add("Redis", c.Redis.Address, "6379")
	add("Kafka", c.Kafka.Address, "9092")
	if c.Discovery.Enable == "etcd" {
		add("etcd", c.Discovery.Etcd.Address, "2379")
	}
	if c.Third.Object.Enable == "minio" {
		add("MinIO", []string{c.Minio.InternalAddress}, "9000")
	}
	return out
}

// hostPort turns an address as OpenIM's files write it ("host:port",
// "http://host:port/", "host") into host:port; "" when there is no host.
func hostPort(a, port string) string {
	a = strings.TrimSpace(a)
	if i := strings.Index(a, "://"); i >= 0 {
		a = a[i+3:]
	}
	if i := strings.IndexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	if a == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(strings.Trim(a, "[]"), port)
}

// mongoHosts returns the hosts of a mongodb:// uri (none for mongodb+srv).
func mongoHosts(uri string) []string {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		return nil
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Split(rest, ",")
}
