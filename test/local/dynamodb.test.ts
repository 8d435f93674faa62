import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LocalDynamoDb } from '../../local/dynamodb';
import { TableSchema } from '../../lambda/agent/table-schema';

let dynamo: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await LocalDynamoDb.start();
  await dynamo.createConversationTable('conversations-test');
  client = new DynamoDBClient({ region: 'eu-west-1', endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

const key = { [TableSchema.partitionKey]: { S: 'conversation#1' }, [TableSchema.sortKey]: { S: 'turn#0001' } };

test('the conversation table stores and reads items by the shared key names', async () => {
  await client.send(new PutItemCommand({ TableName: 'conversations-test', Item: { ...key, text: { S: 'hello' } } }));

  const read = await client.send(new GetItemCommand({ TableName: 'conversations-test', Key: key, ConsistentRead: true }));

  expect(read.Item?.text).toEqual({ S: 'hello' });
});

test('a conditional put on an existing key fails with ConditionalCheckFailedException', async () => {
  const put = () =>
    client.send(
      new PutItemCommand({
        TableName: 'conversations-test',
        Item: { ...key, [TableSchema.sortKey]: { S: 'turn#0002' } },
        ConditionExpression: 'attribute_not_exists(#sk)',
        ExpressionAttributeNames: { '#sk': TableSchema.sortKey },
      }),
    );

  await put();

  await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
});
