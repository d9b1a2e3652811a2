# Hotline: `make run` and `make test` work on a fresh Debian 12 with Swift 6: they install
# whatever apt packages are missing first (with sudo when not root).
SWIFT        ?= swift
SIP          ?= 127.0.0.1:5060
HTTP         ?= 127.0.0.1:8080
DIALPLAN     ?= Dialplans/12345.yaml
DB           ?= var/hotline.sqlite
# libjs-codemirror and graphviz: the console's dialplan editor (highlighting, the flow drawn);
# libjs-chart.js: its KPI charts.
RUN_PACKAGES  := pkg-config libasound2-dev libopus-dev libsrtp2-dev libsqlite3-dev libjs-codemirror libjs-chart.js graphviz
# PostgreSQL and Kamailio: the cluster tests run a real shared store and a real SIP front.
# Chromium and its WebDriver: the console's browser tests (with CJK fonts for its Mandarin pages).
# openssl: the TLS tests make a throwaway CA and certificates; baresip (its srtp, opus and ausine
# modules) is also the TLS and SRTP home agent.
TEST_PACKAGES := $(RUN_PACKAGES) sip-tester sqlite3 postgresql kamailio kamailio-extra-modules baresip openssl \
                 chromium chromium-driver fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: all deps deps-test build release run test conformance clean prompts pg-start pg-stop cluster cluster-stop cluster-status

all: build

# Installs only what is missing, so a second run costs one dpkg query per package.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(RUN_PACKAGES))

deps-test:
	$(call apt_install,$(TEST_PACKAGES))

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Starts the server on the default dialplan (Ctrl-C stops it and commits every ticket).
run: release
	mkdir -p var
	.build/release/hotline serve --sip $(SIP) --http $(HTTP) --dialplan $(DIALPLAN) --db $(DB) --prompts Prompts

# Every test: unit tests and the SIPp integration tests (which start `hotline serve`).
# Bounded: a run still going after TEST_TIME_LIMIT seconds is killed (and fails) rather than
# holding CI; output is line-buffered (stdbuf) so a log cut short shows the last test started.
TEST_TIME_LIMIT ?= 1500
test: deps-test pg-start
	$(SWIFT) build --build-tests
	HOTLINE_TEST_DB_URL=$$(deploy/postgres/pgctl.sh url $(PG_PORT)) \
	  timeout --kill-after=30 $(TEST_TIME_LIMIT) stdbuf -oL -eL $(SWIFT) test --skip-build

# The private PostgreSQL the tests (and `make cluster`) use: deploy/postgres/pgctl.sh.
PG_PORT ?= 55432
pg-start: deps-test
	deploy/postgres/pgctl.sh start $(PG_PORT)

pg-stop:
	deploy/postgres/pgctl.sh stop $(PG_PORT)

# A cluster on loopback (deploy/cluster.sh): Kamailio on 127.0.0.1:5060 over three nodes
# (SIP 127.0.0.11-13:5060, HTTP :8080), PostgreSQL; pid files and logs in var/cluster/.
# CLUSTER_DB is each node's --db: the shared PostgreSQL (pgctl.sh's), or per-node SQLite files
# with CLUSTER_DB='var/cluster/node{n}.sqlite' ({n}: the node number).
CLUSTER_DB ?= postgres://hotline@127.0.0.1:$(PG_PORT)/hotline
CLUSTER_BIN ?= .build/release/hotline
cluster: deps-test release
	HOTLINE_BIN=$(CLUSTER_BIN) CLUSTER_DB='$(CLUSTER_DB)' DIALPLAN=$(DIALPLAN) PG_PORT=$(PG_PORT) deploy/cluster.sh start

# Drains the nodes (calls in progress finish), stops Kamailio, and PostgreSQL if cluster started it.
cluster-stop:
	PG_PORT=$(PG_PORT) deploy/cluster.sh stop

cluster-status:
	deploy/cluster.sh status

# The shared conformance kit against a server on the bench dialplan.
conformance: deps-test build
	./.ci/conformance

prompts:
	Prompts/generate.sh

clean:
	rm -rf .build
