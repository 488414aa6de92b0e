package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Secure Kafka (-secure-dir DIR): a second one-broker kfake cluster, on a
// free loopback port, that speaks only TLS and SASL PLAIN, as a hardened
// Kafka of an OpenIM deployment does (kafka.yml tls.enableTLS, username,
// password). Its listener demands a client certificate signed by its CA.
// Everything a client needs is written to DIR, mode 0600:
//
//	ca.pem                  the CA that signed the broker's and the client's certificates
//	client.pem, client.key  a client certificate and its key
//	other-ca.pem            an unrelated CA (a client that trusts only it must fail)
//	user, password          the SASL PLAIN login
//	addr                    127.0.0.1:PORT, written last: once it exists the broker serves
func startSecureKafka(dir string, partitions int) (*kfake.Cluster, error) {
	ca, caKey, err := newCA("openim-test-components CA")
	if err != nil {
		return nil, err
	}
	other, _, err := newCA("unrelated CA")
	if err != nil {
		return nil, err
	}
	server, err := newLeaf(ca, caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	client, err := newLeaf(ca, caKey, "openim", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	var pw [12]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw[:])
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.SeedTopics(int32(partitions), openIMTopics...),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs: pool, MinVersion: tls.VersionTLS12}),
		kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "openim", password),
	)
	if err != nil {
		return nil, fmt.Errorf("start the secure Kafka: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		c.Close()
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"ca.pem", certPEM(ca.Raw)},
		{"other-ca.pem", certPEM(other.Raw)},
		{"client.pem", certPEM(client.Certificate[0])},
		{"client.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
		{"user", []byte("openim")},
		{"password", []byte(password)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			c.Close()
			return nil, err
		}
	}
	tmp := filepath.Join(dir, "addr.tmp")
	if err := os.WriteFile(tmp, []byte(c.ListenAddrs()[0]), 0o600); err == nil {
		err = os.Rename(tmp, filepath.Join(dir, "addr"))
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newCA(name string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// newLeaf makes a certificate for name (an IP address is also put in its
// IP SANs) signed by ca.
func newLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
