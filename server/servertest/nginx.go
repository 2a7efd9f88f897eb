package servertest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxConfig is the load balancer configuration the README recommends, for the given upstream
// addresses, listening on listen. Its placeholders are filled by StartNginx.
const NginxConfig = `
# WebSocket-aware load balancing for pizzapi relay nodes. Clients that use HTTP long-polling
# (browsers before their upgrade) must come back to the same node: hash on the client address.
upstream pizzapi {
    hash $remote_addr consistent;
    # max_fails=0 on every server: nginx's passive health check (max_fails=1 fail_timeout=10s by
    # default) kept a node that had just restarted out of the rotation, and when every node of a
    # rolling restart was marked failed, it answered 502 to clients while nodes were up.
    # proxy_next_upstream below still skips a node that refuses a connection, at once.
%s
}

map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

server {
    listen %s;

    location / {
        proxy_pass http://pizzapi;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
        proxy_buffering off;
        # A node that refuses or drops a new connection is skipped at once.
        proxy_next_upstream error timeout http_502 http_503;
        proxy_connect_timeout 1s;
        client_max_body_size 100m;
    }
}
`

// NginxBinary finds nginx, or skips the test (fails it with PIZZAPI_TEST_REQUIRE_NGINX=1).
func NginxBinary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("PIZZAPI_TEST_REQUIRE_NGINX") == "1" {
		t.Fatal("nginx is not installed and PIZZAPI_TEST_REQUIRE_NGINX=1")
	}
	t.Skip("nginx is not installed (Debian package nginx; PIZZAPI_TEST_REQUIRE_NGINX=1 fails instead)")
	return ""
}

// StartNginx runs nginx as a load balancer in front of the node URLs and returns its URL. With
// hashOnAddress false the upstream is plain round robin (every test client is on 127.0.0.1).
func StartNginx(t testing.TB, nodeURLs []string, hashOnAddress bool) string {
	t.Helper()
	bin := NginxBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var servers strings.Builder
	for _, u := range nodeURLs {
		fmt.Fprintf(&servers, "    server %s max_fails=0;\n", strings.TrimPrefix(u, "http://"))
	}
	site := fmt.Sprintf(NginxConfig, servers.String(), addr)
	if !hashOnAddress {
		site = strings.Replace(site, "    hash $remote_addr consistent;\n", "", 1)
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
worker_processes 1;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, site)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "stderr.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // nginx forks workers: stop the group
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			out, _ := os.ReadFile(logPath)
			t.Fatalf("nginx did not start: %v\n%s\n%s", err, out, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
