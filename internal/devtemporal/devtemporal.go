// Package devtemporal runs a Temporal server (and optionally its Web UI)
// inside the jitflow process for `jitflow dev` and the end-to-end tests:
// SQLite in one file, one shard, all services on loopback.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

const clusterName = "active"

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file; "" keeps everything in memory.
	DatabaseFile string
	// IP all services bind to; default 127.0.0.1.
	IP string
	// Port of the frontend gRPC service; 0 picks a free one.
	Port int
	// UIPort of the Web UI; 0 picks a free one. Ignored when NoUI.
	UIPort int
	NoUI   bool
	// Namespace is created on first start with Retention and SearchAttributes.
	Namespace        string
	Retention        time.Duration
	SearchAttributes map[string]enumspb.IndexedValueType
	Logger           *slog.Logger
	// MetricsHandler receives the server's metrics (RequestCounter's
	// Handler counts its store requests); nil records none.
	MetricsHandler metrics.Handler
	// SearchAttributesAddedLater: search attributes will be added while
	// the server runs (through the operator API, as jitflow does to a
	// Temporal it did not start), so each use reads them from the
	// database, as Temporal's own dev server does. Without it they are
	// cached as in production: the namespace's own (SearchAttributes)
	// exist before the services start, and each use would otherwise cost
	// reads of the cluster metadata and the namespace (dozens per request
	// on jitflow's single SQLite connection).
	SearchAttributesAddedLater bool
}

// Server is a running embedded Temporal server.
type Server struct {
	// FrontendAddress is host:port of the gRPC frontend.
	FrontendAddress string
	// UIAddress is host:port of the Web UI, "" without one.
	UIAddress string
	server    temporal.Server
	ui        *uiserver.Server
}

// Start creates the schema and namespace if needed and starts the services.
func Start(opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		return nil, errors.New("devtemporal: namespace is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sqlConf, err := prepareDatabase(opts)
	if err != nil {
		return nil, err
	}
	// Ports picked here were free a moment ago, but another process (test
	// packages run side by side) may bind one before the server does: the
	// server then fails to start, and a few more tries with fresh ports
	// get past it. A port the caller chose is tried once.
	pickPort := opts.Port == 0
	var srv temporal.Server
	for attempt := 1; ; attempt++ {
		if pickPort {
			if opts.Port, err = FreePort(opts.IP); err != nil {
				return nil, err
			}
		}
		if srv, err = startServer(opts, sqlConf); err == nil {
			break
		}
		if !pickPort || attempt == startAttempts {
			return nil, err
		}
		opts.Logger.Warn("temporal server did not start; trying again with other ports", "attempt", attempt, "error", err)
	}
	s := &Server{FrontendAddress: net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port)), server: srv}
	if !opts.NoUI {
		if err := s.startUI(opts); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

// startAttempts bounds the tries with fresh ports.
const startAttempts = 4

// startServer builds and starts the services. The server panics, rather
// than failing, when a listener it needs could not be opened (a port taken
// since it was picked): that is returned as an error.
func startServer(opts Options, sqlConf *config.SQL) (srv temporal.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			srv, err = nil, fmt.Errorf("start temporal server: %v", r)
		}
	}()
	conf, err := serverConfig(opts, sqlConf)
	if err != nil {
		return nil, err
	}
	serverOpts := []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(staticHosts(conf)),
		temporal.WithLogger(newLogger(opts.Logger)),
		temporal.WithDynamicConfigClient(dynamicConfig(opts)),
	}
	if opts.MetricsHandler != nil {
		serverOpts = append(serverOpts, temporal.WithCustomMetricsHandler(opts.MetricsHandler))
	}
	srv, err = temporal.NewServer(serverOpts...)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	return srv, nil
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

// startUI serves the Web UI in the background; its Start blocks, so a
// failure after the port check is only logged.
func (s *Server) startUI(opts Options) error {
	port := opts.UIPort
	if port == 0 {
		var err error
		if port, err = FreePort(opts.IP); err != nil {
			return err
		}
	}
	// Fail now, with a clear message, if the port is taken.
	l, err := net.Listen("tcp", net.JoinHostPort(opts.IP, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("web UI port %d: %w", port, err)
	}
	l.Close()
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                opts.IP,
		Port:                port,
		TemporalGRPCAddress: s.FrontendAddress,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
		DefaultNamespace:    opts.Namespace,
		// The UI is for looking: a request changes only through jitflow,
		// which checks who may decide, revoke or cancel. A terminate, signal,
		// reset or update from the UI would bypass those checks and the
		// audit trail's actors.
		DisableWriteActions: true,
	}))
	s.UIAddress = net.JoinHostPort(opts.IP, strconv.Itoa(port))
	go func() {
		if err := s.ui.Start(); err != nil && !errors.Is(err, context.Canceled) {
			opts.Logger.Error("temporal web UI stopped", "error", err)
		}
	}()
	return nil
}

// prepareDatabase creates the schema on first use and the namespace when it
// does not exist yet.
func prepareDatabase(opts Options) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = "jitflow-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	} else {
		// WAL lets readers (visibility, the UI) run beside the writer, and
		// synchronous=NORMAL is durable across process crashes in WAL mode.
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"}
		conf.DatabaseName = opts.DatabaseFile
	}
	fresh := opts.DatabaseFile == ""
	if !fresh {
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			fresh = true
			if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o700); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
		}
	}
	if fresh {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("set up temporal schema in %s: %w", opts.DatabaseFile, err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", opts.Namespace, err)
	}
	if opts.Retention > 0 {
		ns.Detail.Config.Retention = durationpb.New(opts.Retention)
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", opts.Namespace, err)
	}
	return conf, nil
}

func serverConfig(opts Options, sqlConf *config.SQL) (*config.Config, error) {
	httpPort, err := FreePort(opts.IP)
	if err != nil {
		return nil, err
	}
	frontend := net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(httpPort)),
				ClusterID:              "jitflow-dev",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = opts.IP
		if name == "frontend" {
			svc.RPC.GRPCPort = opts.Port
			svc.RPC.HTTPPort = httpPort
		} else if svc.RPC.GRPCPort, err = FreePort(opts.IP); err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return conf, nil
}

func staticHosts(conf *config.Config) map[primitives.ServiceName]static.Hosts {
	host := func(name string) static.Hosts {
		svc := conf.Services[name]
		return static.SingleLocalHost(net.JoinHostPort(svc.RPC.BindOnIP, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	return map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: host("frontend"),
		primitives.HistoryService:  host("history"),
		primitives.MatchingService: host("matching"),
		primitives.WorkerService:   host("worker"),
	}
}

// dynamicConfig mirrors the settings of Temporal's own dev server, but for
// reading search attributes from the database on every use, which it keeps
// only when opts ask for attributes added later (see
// Options.SearchAttributesAddedLater). The persistence rate limits are
// raised: with the default, the limiter's burst runs dry after a handful
// of requests and every call then waits tens of milliseconds.
func dynamicConfig(opts Options) dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 1024,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      opts.SearchAttributesAddedLater,
		dynamicconfig.FrontendPersistenceMaxQPS.Key():                    10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():                     45000,
		dynamicconfig.MatchingPersistenceMaxQPS.Key():                    10000,
		// The queue processors poll each shard at most 20 times a second by
		// default, tuned for clusters of hundreds of shards. With the one
		// shard here that spaces every workflow task, timer and visibility
		// write about 50 ms apart once the burst is spent.
		dynamicconfig.TransferProcessorMaxPollRPS.Key():   2000,
		dynamicconfig.TimerProcessorMaxPollRPS.Key():      2000,
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): 2000,
	}
}

// FreePort asks the kernel for a free TCP port on ip.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
