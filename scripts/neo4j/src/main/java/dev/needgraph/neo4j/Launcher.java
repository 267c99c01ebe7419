package dev.needgraph.neo4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Runs a Neo4j community DBMS (the real kernel, embedded) with a Bolt connector on loopback.
 *
 * <p>Driven by {@code scripts/neo4j_server.py}. Configuration comes from environment variables
 * so that the password never shows up on a command line:
 *
 * <ul>
 *   <li>{@code NEEDGRAPH_NEO4J_HOME} – directory for the database files (created if missing)
 *   <li>{@code NEEDGRAPH_NEO4J_PORT} – Bolt port on 127.0.0.1
 *   <li>{@code NEEDGRAPH_NEO4J_PASSWORD} – password to set for user {@code neo4j}
 *   <li>{@code NEEDGRAPH_NEO4J_READY_FILE} – written (atomically) once Bolt listens and the
 *       password is set
 *   <li>{@code NEEDGRAPH_NEO4J_PAGECACHE_MB} – page cache size in MiB (default 256)
 * </ul>
 *
 * <p>Authentication is enabled; HTTP is not part of the embedded artifact, so only Bolt
 * listens. A JVM shutdown hook stops the DBMS cleanly on SIGTERM/SIGINT.
 */
public final class Launcher {

    private static final String USER = "neo4j";
    private static final int MIN_PASSWORD_LENGTH = 16;

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        try {
            run();
        } catch (Exception e) {
            // Neo4j may have started non-daemon threads; exit explicitly so the JVM never lingers.
            e.printStackTrace();
            fail("Neo4j failed to start: " + e);
        }
    }

    private static void run() throws Exception {
        Path home = Path.of(requireEnv("NEEDGRAPH_NEO4J_HOME"));
        int port = Integer.parseInt(requireEnv("NEEDGRAPH_NEO4J_PORT"));
        String password = requireEnv("NEEDGRAPH_NEO4J_PASSWORD");
        Path readyFile = Path.of(requireEnv("NEEDGRAPH_NEO4J_READY_FILE"));
        long pageCacheMb = Long.parseLong(envOr("NEEDGRAPH_NEO4J_PAGECACHE_MB", "256"));
        if (password.length() < MIN_PASSWORD_LENGTH) {
            fail("NEEDGRAPH_NEO4J_PASSWORD must be at least " + MIN_PASSWORD_LENGTH + " chars");
        }

        Files.deleteIfExists(readyFile);
        Files.createDirectories(home);
        log("starting Neo4j DBMS in " + home + " with Bolt on 127.0.0.1:" + port);
        long started = System.nanoTime();
        DatabaseManagementService dbms = buildDbms(home, port, pageCacheMb);
        log("DBMS started in " + millisSince(started) + " ms");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> shutdown(dbms, readyFile, stopped), "shutdown"));

        try {
            setInitialPassword(dbms, password);
            writeReadyFile(readyFile, port);
        } catch (RuntimeException | IOException e) {
            e.printStackTrace();
            fail("could not finish start-up: " + e);
        }
        log("ready in " + millisSince(started) + " ms: bolt://127.0.0.1:" + port + " (user "
                + USER + ", auth enabled)");
        stopped.await();
    }

    /** Builds and starts the DBMS; returns once all databases and Bolt are up. */
    private static DatabaseManagementService buildDbms(Path home, int port, long pageCacheMb) {
        return new DatabaseManagementServiceBuilder(home)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.default_listen_address,
                        new SocketAddress("127.0.0.1"))
                .setConfig(GraphDatabaseSettings.default_advertised_address,
                        new SocketAddress("127.0.0.1"))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                // Databases are checkpointed first; don't idle 5 s + 5 s in Bolt's shutdown.
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time,
                        Duration.ofSeconds(1))
                .build();
    }

    /** Sets the password of the built-in {@code neo4j} user via the system database. */
    private static void setInitialPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally(
                "ALTER USER " + USER + " SET PASSWORD $pw CHANGE NOT REQUIRED",
                Map.of("pw", password));
    }

    /** Writes the ready file via a temp file + atomic rename so readers never see half of it. */
    private static void writeReadyFile(Path readyFile, int port) throws IOException {
        Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
        String body = "port=" + port + "\npid=" + ProcessHandle.current().pid() + "\n";
        Files.writeString(tmp, body, StandardCharsets.UTF_8);
        Files.move(tmp, readyFile, StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static void shutdown(DatabaseManagementService dbms, Path readyFile,
            CountDownLatch stopped) {
        log("shutting down Neo4j DBMS");
        try {
            Files.deleteIfExists(readyFile);
        } catch (IOException e) {
            log("could not delete ready file: " + e);
        }
        try {
            dbms.shutdown();
            log("Neo4j DBMS stopped");
        } finally {
            stopped.countDown();
        }
    }

    private static String requireEnv(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            fail("environment variable " + name + " is required");
        }
        return value;
    }

    private static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }

    private static void log(String message) {
        System.err.println("[needgraph-neo4j] " + message);
        System.err.flush();
    }

    private static void fail(String message) {
        log("error: " + message);
        System.exit(2);
    }
}
