package openimconf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ConfigCenterKey is the etcd key with which OpenIM's main branch (after
// 3.8.3) makes etcd, not the files, the source of its config: value
// "enable" turns it on (pkg/common/discovery/etcd/const.go,
// ConfigKeyPrefix + EnableConfigCenterKey).
const ConfigCenterKey = "/open-im/config/enable-config-center"

// ConfigCenter asks the etcd of discovery.yml whether OpenIM's config
// centre is enabled. It uses etcd's JSON gateway (POST /v3/kv/range), the
// same API the etcd client speaks, so it needs no etcd client library.
// With discovery other than etcd it returns false without asking.
func ConfigCenter(ctx context.Context, disc Discovery) (bool, error) {
	if disc.Enable != "etcd" {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var errs []error
	for _, addr := range nonEmpty(disc.Etcd.Address) {
		on, err := configCenterAt(ctx, addr, disc.Etcd.Username, disc.Etcd.Password)
		if err == nil {
			return on, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return false, errors.New("discovery.yml has no etcd address")
	}
	return false, errors.Join(errs...)
}

func configCenterAt(ctx context.Context, addr, user, password string) (bool, error) {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	token := ""
	if user != "" {
		var auth struct {
			Token string `json:"token"`
		}
		if err := etcdPost(ctx, base+"/v3/auth/authenticate", "", map[string]string{"name": user, "password": password}, &auth); err != nil {
			return false, fmt.Errorf("etcd %s: authenticate: %w", addr, err)
		}
		token = auth.Token
	}
	var res struct {
		Kvs []struct {
			Value string `json:"value"`
		} `json:"kvs"`
	}
	key := base64.StdEncoding.EncodeToString([]byte(ConfigCenterKey))
	if err := etcdPost(ctx, base+"/v3/kv/range", token, map[string]string{"key": key}, &res); err != nil {
		return false, fmt.Errorf("etcd %s: read %s: %w", addr, ConfigCenterKey, err)
	}
	if len(res.Kvs) == 0 {
		return false, nil
	}
	v, err := base64.StdEncoding.DecodeString(res.Kvs[0].Value)
	if err != nil {
		return false, fmt.Errorf("etcd %s: %s: %w", addr, ConfigCenterKey, err)
	}
	return string(v) == "enable", nil
}

func etcdPost(ctx context.Context, url, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, out)
}
