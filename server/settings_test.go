package server

import (
	"strings"
	"testing"
	"time"
)

// serveDefaults are tell serve's defaults.
func serveDefaults() Settings {
	return Settings{
		Limits: Limits{Jobs: 1, MaxPixels: DefaultMaxPixels, MaxSeconds: DefaultMaxSeconds, JobBudget: "1h@1080p30", MemoryLimit: 2048},
		Addr:   DefaultAddr, Workers: 1, MaxUpload: DefaultMaxUpload >> 20, MaxQueued: DefaultMaxQueued, MaxUploads: DefaultMaxUploads,
		MaxJobs: DefaultMaxJobs, MaxStored: DefaultMaxBytes >> 20, Rate: DefaultRate, Keep: DefaultKeep, AckWait: 30 * time.Second,
		KeyQueued: DefaultKeyQueued, KeyRunning: DefaultKeyRunning, KeyWork: "4h@1080p30",
	}
}

// TestSettingsValidate: each wrong value is refused with the flag's name.
func TestSettingsValidate(t *testing.T) {
	if err := serveDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		set  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Addr = "nope" }, `--addr "nope"`},
		{func(s *Settings) { s.MaxUpload = 0 }, "--max-upload 0"},
		{func(s *Settings) { s.Jobs = 0 }, "--jobs 0"},
		{func(s *Settings) { s.Workers = 2 }, "--workers 2"},
		{func(s *Settings) { s.Keep = -time.Second }, "--keep -1s"},
		{func(s *Settings) { s.MaxStored = 0 }, "--max-stored want at least 1"},
		{func(s *Settings) { s.Rate = -1 }, "--rate -1"},
		{func(s *Settings) { s.MaxSeconds = 0 }, "--max-seconds want positive"},
		{func(s *Settings) { s.MemoryLimit = 100 }, "--memory-limit 100"},
		{func(s *Settings) { s.AckWait = time.Millisecond }, "--ack-wait 1ms"},
		{func(s *Settings) { s.NATS, s.Data = "nats://x", "d" }, "--nats joins an external"},
		{func(s *Settings) { s.NATSCert = "c" }, "--nats-tls-cert and --nats-tls-key"},
		{func(s *Settings) { s.KeyRunning = 0 }, "--key-queued and --key-running"},
		{func(s *Settings) { s.JobBudget = "x" }, `--job-budget "x"`},
		{func(s *Settings) { s.KeyWork = "x" }, `--key-work "x"`},
		{func(s *Settings) { s.KeyWork = "1m@1080p30" }, "--key-work 1m@1080p30 is less than --job-budget"},
	} {
		s := serveDefaults()
		c.set(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v", c.want, err)
		}
	}
}

// TestSettingsAuthAndConfig: NATS beside keys must name its clients; the
// Config carries the settings in the server's units.
func TestSettingsAuthAndConfig(t *testing.T) {
	s := serveDefaults()
	keys := &Keys{}
	s.NATSListen = "127.0.0.1:4222"
	if err := s.CheckAuth(keys, false, false); err == nil || !strings.Contains(err.Error(), "--nats-users") {
		t.Errorf("listen without users: %v", err)
	}
	if err := s.CheckAuth(keys, true, false); err != nil {
		t.Errorf("listen with users: %v", err)
	}
	s.NATSListen, s.NATS = "", "nats://x"
	if err := s.CheckAuth(keys, false, false); err == nil || !strings.Contains(err.Error(), "--nats-creds") {
		t.Errorf("external without credentials: %v", err)
	}
	if err := s.CheckAuth(nil, false, false); err != nil {
		t.Errorf("no keys: %v", err)
	}
	s.Rate, s.AllowedHosts, s.Workers = 0, " a.example, ,b ", 0
	mem := NewMemory(1 << 30)
	cfg := s.Config(nil, s.Analysis(mem, nil), "v1", nil)
	if cfg.MaxUpload != DefaultMaxUpload || cfg.MaxBytes != DefaultMaxBytes || cfg.Rate != -1 || !cfg.NoWorker ||
		strings.Join(cfg.AllowedHosts, "|") != "a.example|b" || cfg.KeyWorkPerHour != 4*3600*1920*1080*30 ||
		cfg.Budget.JobWork != 3600*1920*1080*30 || cfg.Memory != mem || cfg.Analysis.Memory != mem {
		t.Errorf("config %+v", cfg)
	}
}
