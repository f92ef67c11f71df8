import { type ClassType, Field, ObjectType } from "type-graphql";
import { PageInfo } from "./common.type.js";

/** Relay connection types for a node type: `<Name>Edge { cursor node }` and `<Name>Connection`. */
export const connectionOf = <T extends object>(node: ClassType<T>, name: string) => {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return Connection;
};
