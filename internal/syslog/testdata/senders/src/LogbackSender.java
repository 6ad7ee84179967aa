// LogbackSender sends the capture messages through Logback's
// SyslogAppender, configured by the file that -Dlogback.configurationFile
// names (written by scripts/capture-senders.sh).
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class LogbackSender {
    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger("netlog.capture");
        log.info("m01 plain message");
        log.info("m02 non-ASCII: grüße, naïve café, 日本語, emoji \uD83D\uDE80");
        log.info("");
        log.trace("m04 level trace");
        log.debug("m05 level debug");
        log.info("m06 level info");
        log.warn("m07 level warn");
        log.error("m08 level error");
        log.info("m11 first line\nsecond line\n3 jobs failed\n\tat third");
        log.error("m12 request failed", new IllegalStateException("boom", new RuntimeException("root cause")));
        ((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }
}
