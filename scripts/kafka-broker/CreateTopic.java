// Creates or deletes a topic on the local broker with Kafka's AdminClient, for
// `scripts/kafka topic` and `scripts/kafka delete-topic`: the broker's runtime jars have no topic
// tool in Kafka 4.x, and Java runs this single file as it is (no build step), with those jars on
// the class path:
//   java -cp "$KAFKA_LIB/*" CreateTopic.java BROKERS TOPIC PARTITIONS
//   java -cp "$KAFKA_LIB/*" CreateTopic.java BROKERS TOPIC --delete
// Exits 3 when the topic to create exists already (producing into it again would append), or
// the topic to delete does not.
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public class CreateTopic {
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        try (Admin admin = Admin.create(properties)) {
            if (args[2].equals("--delete")) {
                admin.deleteTopics(List.of(args[1])).all().get();
                System.out.println("deleted " + args[1]);
                return;
            }
            admin.createTopics(List.of(new NewTopic(args[1], Integer.parseInt(args[2]), (short) 1))).all().get();
            System.out.println("created " + args[1] + " with " + args[2] + " partition(s)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                System.err.println("topic " + args[1] + " exists already");
                System.exit(3);
            }
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                System.err.println("no topic " + args[1]);
                System.exit(3);
            }
            throw e;
        }
    }
}
