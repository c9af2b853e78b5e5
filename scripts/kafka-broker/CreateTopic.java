// Creates a topic on the local broker with Kafka's AdminClient, for `scripts/kafka topic`: the
// broker's runtime jars have no topic tool in Kafka 4.x, and Java runs this single file as it
// is (no build step), with those jars on the class path:
//   java -cp "$KAFKA_LIB/*" CreateTopic.java BROKERS TOPIC PARTITIONS
// Exits 3 when the topic exists already (producing into it again would append).
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public class CreateTopic {
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        try (Admin admin = Admin.create(properties)) {
            admin.createTopics(List.of(new NewTopic(args[1], Integer.parseInt(args[2]), (short) 1))).all().get();
            System.out.println("created " + args[1] + " with " + args[2] + " partition(s)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                System.err.println("topic " + args[1] + " exists already");
                System.exit(3);
            }
            throw e;
        }
    }
}
