#!/usr/bin/env bash
# capture-senders.sh records the exact bytes that real logging libraries
# send over syslog, as committed test data for internal/syslog
# (internal/syslog/testdata/senders/README.md describes the files). It
# needs javac/java, Debian's liblog4j2-java and liblogback-java, node and
# npm (the npm packages are installed into a temporary directory, at the
# versions pinned below). The test command does not run it.
#
# Usage: [ONLY=regexp] scripts/capture-senders.sh [output-dir]
# ONLY, when set, limits the run to the configurations whose file name
# matches it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/internal/syslog/testdata/senders/src
out=${1:-$root/internal/syslog/testdata/senders}
npm_pkgs=(winston@3.19.0 winston-syslog@2.7.1 pino@10.4.0 pino-syslog@4.0.0 pino-socket@8.0.0 syslog-client@1.1.1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

go build -o "$work/capture" "$src/capture"

# capture NAME COMMAND...: runs COMMAND (with @PORT@ replaced by the
# capture server's port) while the capture server records into $out/NAME.*.
capture() {
	local name=$1; shift
	[[ -n ${ONLY:-} && ! $name =~ $ONLY ]] && return 0
	rm -f "$out/$name".*
	local portfile=$work/$name.port
	"$work/capture" -out "$out/$name" >"$portfile" &
	local cap=$! port="" a args=()
	until [ "$(sed -n 2p "$portfile" 2>/dev/null)" = ready ]; do sleep 0.1; done
	port=$(sed -n 1p "$portfile")
	for a in "$@"; do args+=("${a//@PORT@/$port}"); done
	echo "== $name: ${args[*]}" >&2
	"${args[@]}" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; echo "$name: sender failed" >&2; failed=1; }
	kill -TERM "$cap"
	wait "$cap" || { echo "$name: capture failed" >&2; failed=1; }
}
failed=0

# Java: Log4j 2 and Logback from the Debian packages.
j=/usr/share/java
log4j_v=$(dpkg-query -W -f='${Version}' liblog4j2-java | sed 's/-[^-]*$//')
logback_v=$(dpkg-query -W -f='${Version}' liblogback-java | sed 's/^[0-9]*://; s/-[^-]*$//')
log4j_cp=$j/log4j-api.jar:$j/log4j-core.jar
logback_cp=$j/slf4j-api.jar:$j/logback-classic.jar:$j/logback-core.jar
mkdir -p "$work/log4j" "$work/logback"
javac -encoding UTF-8 -d "$work/log4j" -cp "$log4j_cp" "$src/Log4jSender.java"
javac -encoding UTF-8 -d "$work/logback" -cp "$logback_cp" "$src/LogbackSender.java"

# log4j FORMAT PROTOCOL NEWLINE: one Log4j SyslogAppender configuration.
log4j() {
	local format=$1 proto=$2 newline=$3 name
	name=log4j2-$log4j_v-$(tr A-Z a-z <<<"$format")-$(tr A-Z a-z <<<"$proto")
	[ "$newline" = true ] && name+=-newline
	local extra=""
	[ "$format" = RFC5424 ] && extra='appName="myapp" id="App" enterpriseNumber="32473" messageId="Audit" exceptionPattern="%ex{full}"'
	cat >"$work/$name.xml" <<XML
<Configuration status="warn">
  <Appenders>
    <Syslog name="syslog" format="$format" host="127.0.0.1" port="\${sys:port}" protocol="$proto"
            facility="LOCAL0" newLine="$newline" $extra/>
  </Appenders>
  <Loggers><Root level="trace"><AppenderRef ref="syslog"/></Root></Loggers>
</Configuration>
XML
	capture "$name" java -Dport=@PORT@ -Dlog4j.configurationFile="$work/$name.xml" -cp "$work/log4j:$log4j_cp" Log4jSender
}
for format in BSD RFC5424; do
	log4j $format UDP false
	log4j $format TCP false
	log4j $format TCP true
done

# logback NAME SUFFIXPATTERN: Logback's SyslogAppender (UDP only).
logback() {
	local name=logback-$logback_v-$1-udp
	local suffix=${2:+<suffixPattern>$2</suffixPattern>}
	cat >"$work/$name.xml" <<XML
<configuration>
  <appender name="syslog" class="ch.qos.logback.classic.net.SyslogAppender">
    <syslogHost>127.0.0.1</syslogHost><port>\${port}</port><facility>LOCAL0</facility>
    $suffix
  </appender>
  <root level="TRACE"><appender-ref ref="syslog"/></root>
</configuration>
XML
	capture "$name" java -Dport=@PORT@ -Dlogback.configurationFile="$work/$name.xml" -cp "$work/logback:$logback_cp" LogbackSender
}
logback default ""             # suffixPattern's default: [%thread] %logger %msg
logback msg '%msg'             # the message alone: its first word is read as the tag
logback tagged 'myapp: %msg'   # a tag of the application's choosing

# npm: winston-syslog, pino-syslog (through pino-socket), syslog-client.
npm install --silent --no-audit --no-fund --prefix "$work/npm" "${npm_pkgs[@]}" >&2
cp "$src"/*.js "$work/npm/"
v() { node -p "require('$work/npm/node_modules/$1/package.json').version"; }
ws=winston-syslog-$(v winston-syslog)
for type in BSD 5424; do
	t=$(tr A-Z a-z <<<"$type")
	capture "$ws-$t-udp" node "$work/npm/winston-sender.js" @PORT@ udp4 $type
	capture "$ws-$t-tcp" node "$work/npm/winston-sender.js" @PORT@ tcp4 $type
	capture "$ws-$t-tcp-eol" node "$work/npm/winston-sender.js" @PORT@ tcp4 $type lf
done
ps=pino-syslog-$(v pino-syslog)
for format in 3164 5424; do
	capture "$ps-$format-udp" node "$work/npm/pino-sender.js" @PORT@ udp $format false true
	capture "$ps-$format-tcp" node "$work/npm/pino-sender.js" @PORT@ tcp $format false true
	capture "$ps-$format-tcp-newline" node "$work/npm/pino-sender.js" @PORT@ tcp $format true true
done
capture "$ps-5424-tcp-newline-json-sd" node "$work/npm/pino-sender.js" @PORT@ tcp 5424 true false '[exampleSDID@32473 iut="3" eventSource="Application"]'
sc=syslog-client-$(v syslog-client)
for rfc in 3164 5424; do
	capture "$sc-$rfc-udp" node "$work/npm/syslog-client-sender.js" @PORT@ udp $rfc
	capture "$sc-$rfc-tcp" node "$work/npm/syslog-client-sender.js" @PORT@ tcp $rfc
done
exit $failed
