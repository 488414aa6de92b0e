-- A small OpenIM 3.4 dataset exercising every table, renamed field, NULL and
-- zero datetimes, and the narrower-unique-key conflicts.
SET SESSION sql_mode = '';
INSERT INTO `users` VALUES
 ('u1','Alice','http://f/a.png','{"a":1}','2023-05-01 10:00:00.123',1,0),
 ('u2','Bob',NULL,'',NULL,2,1),
 ('u3','Zero','','','0000-00-00 00:00:00.000',1,2);
INSERT INTO `friends` VALUES ('u1','u2','bobby','2023-05-02 11:00:00.000',3,'u1','fx'),('u2','u1','',NULL,3,'u2','');
INSERT INTO `friend_requests` VALUES ('u1','u3',1,'hi','2023-05-03 12:00:00.000','u3','ok','2023-05-03 12:30:00.000','frx'),
 ('u3','u2',0,'hey','2023-05-04 00:00:00.000','',NULL,NULL,'');
INSERT INTO `blacks` VALUES ('u2','u3','2023-05-05 05:05:05.005',1,'u2','bx');
INSERT INTO `groups` VALUES ('g1','Group One','notice','intro','http://f/g.png','2023-05-06 06:00:00.000','gex',0,'u1',2,1,0,1,'2023-05-06 07:00:00.000','u1'),
 ('g2','Group Two','','','',NULL,NULL,2,'u2',2,0,1,0,'0000-00-00 00:00:00','');
INSERT INTO `group_members` VALUES ('g1','u1','Ali','http://f/gm.png',100,'2023-05-06 06:00:00.000',2,'u1','u1','1970-01-01 00:00:00.000','gmx'),
 ('g1','u2','','',20,'2023-05-06 06:10:00.000',3,'u1','u1',NULL,''),
 ('g2','u2','','',100,'2023-05-07 00:00:00.000',2,'','','2030-01-01 00:00:00.000','');
INSERT INTO `group_requests` VALUES ('u3','g1',1,'let me in','welcome','2023-05-08 08:00:00.000','u1','2023-05-08 09:00:00.000',3,'','grx');
INSERT INTO `conversations` VALUES
 ('u1','si_u1_u2',1,'u2','',0,1,0,0,0,'att','cx',120,5,'2023-05-09 09:00:00.000',1,3600,'2023-05-10 00:00:00.000'),
 ('u2','sg_g1',3,'','g1',2,0,1,30,1,'','',900,0,NULL,0,604800,NULL);
INSERT INTO `object` VALUES ('obj/a.png','u1','h1','k1',1234,'image/png','avatar','2023-05-11 11:11:11.111');
INSERT INTO `logs` VALUES ('l1','ios','u1','2023-05-12 12:00:00.000','http://f/l1.zip','l1.zip','ios','3.4.2','lx');
INSERT INTO `signal` VALUES
 ('sid1','u1','cd1','g1','roomA',30,'video',1,3,'2023-05-13 13:00:00.000','2023-05-13 13:10:00.000','http://f/r1','t1','d1','sx1','ding',1,'info1'),
 ('sid1','u1','cd2','g1','roomB',30,'audio',2,3,'2023-05-13 14:00:00.000',NULL,'','t2','d2','sx2','',0,'info2'),
 ('sid2','u2','','','roomC',60,'audio',1,1,'2023-05-14 00:00:00.000','2023-05-14 00:01:00.000','','','','','',0,'');
INSERT INTO `signal_invitation` VALUES
 ('u2','sid1',1,'2023-05-13 13:00:00.000','2023-05-13 13:00:05.000'),
 ('u2','sid1',2,'2023-05-13 14:00:00.000',NULL),
 ('u3','sid1',0,'2023-05-13 13:00:00.000',NULL);
INSERT INTO `meeting` VALUES ('room1','standup','u1',1,1700000000,0,'2023-05-15 15:00:00.000','mx');
INSERT INTO `meeting_invitation` VALUES ('room1','u2','2023-05-15 15:00:00.000'),('room1','u3','2023-05-15 15:01:00.000');
INSERT INTO `meeting_video_record` VALUES
 ('room1','http://f/v1.mp4','2023-05-15 16:00:00.000'),
 ('room1','http://f/v1.mp4','2023-05-15 16:00:00.000'),
 ('room1','http://f/v2.mp4','2023-05-15 17:00:00.000');
INSERT INTO `chat_logs` VALUES ('m1','not migrated');
